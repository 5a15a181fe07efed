"""Admin token auth: missing, malformed, wrong, revoked tokens; hashes at rest; audit log."""

import hashlib

from sqlalchemy import select, update

from gerbang_server import db


def test_missing_token(client):
    r = client.get("/api/v1/admin/areas")
    assert r.status_code == 401
    assert r.get_json()["error"] == "missing_token"


def test_wrong_scheme(client, admin_token):
    r = client.get("/api/v1/admin/areas", headers={"Authorization": f"Basic {admin_token}"})
    assert r.status_code == 401
    assert r.get_json()["error"] == "bad_token"


def test_empty_bearer(client):
    r = client.get("/api/v1/admin/areas", headers={"Authorization": "Bearer "})
    assert r.status_code == 401
    assert r.get_json()["error"] == "bad_token"


def test_wrong_token(client, admin_token):
    r = client.get("/api/v1/admin/areas", headers={"Authorization": f"Bearer {admin_token}x"})
    assert r.status_code == 401
    assert r.get_json() == {"error": "bad_token", "message": "unknown or revoked token"}


def test_good_token(client, auth):
    r = client.get("/api/v1/admin/areas", headers=auth)
    assert r.status_code == 200
    assert len(r.get_json()["areas"]) == 18


def test_token_stored_as_sha256_only(app, admin_token):
    with app.app_context(), db.begin() as conn:
        rows = conn.execute(select(db.admin_tokens)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(admin_token.encode()).hexdigest()
    assert admin_token not in repr(tuple(rows[0]))


def test_revoked_token_refused(app, client, auth):
    with app.app_context(), db.begin() as conn:
        conn.execute(update(db.admin_tokens).values(revoked_at=1))
    r = client.get("/api/v1/admin/areas", headers=auth)
    assert r.status_code == 401


def test_every_admin_request_is_audited(app, client, auth):
    client.get("/api/v1/admin/areas", headers=auth)
    client.post("/api/v1/admin/devices", json={"id": "x"}, headers=auth)  # 400, still audited
    client.get("/api/v1/admin/areas")  # no token: nobody to attribute
    r = client.get("/api/v1/admin/audit", headers=auth)
    entries = r.get_json()["entries"]
    actions = [(e["actor"], e["action"], e["status"]) for e in entries]
    assert ("tester", "admin.list_areas", 200) in actions
    assert ("tester", "admin.register_device", 400) in actions
    assert all(e["actor"] != "?" for e in entries)
    # token creation itself (CLI) is audited, the unauthenticated request is not
    assert [e["action"] for e in entries].count("admin.list_areas") == 1
    assert entries[0]["action"] == "token.create"


def test_audit_pagination_and_bad_query(client, auth):
    for _ in range(3):
        client.get("/api/v1/admin/areas", headers=auth)
    r = client.get("/api/v1/admin/audit?limit=2", headers=auth)
    body = r.get_json()
    assert len(body["entries"]) == 2 and body["next_after"] == body["entries"][-1]["id"]
    r2 = client.get(f"/api/v1/admin/audit?limit=2&after={body['next_after']}", headers=auth)
    assert r2.get_json()["entries"][0]["id"] > body["next_after"]
    assert client.get("/api/v1/admin/audit?limit=x", headers=auth).status_code == 400
    assert client.get("/api/v1/admin/audit?limit=0", headers=auth).status_code == 400


def test_unknown_route_is_json(client, auth):
    r = client.get("/api/v1/admin/nope", headers=auth)
    assert r.status_code == 404
    assert set(r.get_json()) == {"error", "message"}


def test_health(client):
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}


def test_audit_action_names_unique(app):
    """Audit actions name the view without its resource blueprint (admin.list_areas): two
    admin views with one name would share an action."""
    from gerbang_server.auth import action_name

    admin = [r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    actions = [action_name(e) for e in admin]
    assert len(admin) > 15
    assert len(set(actions)) == len(actions), sorted(actions)
    assert "admin.list_areas" in actions and "admin.export_scans" in actions
