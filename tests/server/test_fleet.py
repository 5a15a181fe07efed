"""Fleet health: stale devices, lists near expiry, areas without keys, signer end."""

from gerbang_server import db

from .conftest import DAY, T0, import_signer, make_pki

URL = "/api/v1/admin/fleet"


def test_fresh_install_needs_attention(client, auth):
    body = client.get(URL, headers=auth).get_json()
    assert body["ok"] is False
    assert len(body["trustlists_expiring"]) == 18 and body["areas_without_key"] == list(
        range(1, 19))
    assert body["signer"] is None


def test_healthy_after_jobs(app, client, auth, area_ready, clock):
    from gerbang_server.jobs import run_jobs

    with app.app_context():
        run_jobs()
    body = client.get(URL, headers=auth).get_json()
    assert body["trustlists_expiring"] == [] and body["areas_without_key"] == []
    assert body["signer"]["remaining"] > 300 * DAY
    assert body["ok"] is True
    clock.advance(12 * DAY)  # 2 days left < 3-day warning, job not run
    body = client.get(URL, headers=auth).get_json()
    assert body["ok"] is False
    assert {x["area"] for x in body["trustlists_expiring"]} == set(range(1, 19))
    assert all(x["remaining"] == 2 * DAY for x in body["trustlists_expiring"])


def test_stale_devices(app, client, auth, register_device, clock):
    register_device("never")
    register_device("fresh")
    register_device("old")
    register_device("gone")
    client.post("/api/v1/admin/devices/gone/retire", headers=auth)
    with app.app_context(), db.begin() as conn:
        db.update_device(conn, "fresh", last_sync_at=T0 - 3600, health={"1": 50000})
        db.update_device(conn, "old", last_sync_at=T0 - 2 * DAY, health={"1": 1200})
    body = client.get(URL, headers=auth).get_json()
    stale = {d["id"]: d for d in body["devices"]["stale"]}
    assert set(stale) == {"never", "old"}  # retired devices are not watched
    assert stale["old"]["age"] == 2 * DAY and stale["old"]["health"] == {"1": 1200}
    assert stale["never"]["last_sync_at"] is None
    assert body["devices"]["active"] == 3


def test_signer_near_end_warns(app, client, auth, clock):
    import_signer(app, make_pki(not_before=T0 - DAY, not_after=T0 + 5 * DAY))
    body = client.get(URL, headers=auth).get_json()
    assert body["signer"]["warn"] is True and body["ok"] is False


def test_fleet_requires_token(client):
    assert client.get(URL).status_code == 401
