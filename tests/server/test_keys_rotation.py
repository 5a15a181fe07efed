"""Acceptance 3: key rotation with a clock, verified with the host reference check.

- certificates signed before a rotation keep passing during the overlap and fail after it;
- a revoked key fails at the next trust list;
- trust lists never reach expiry while the server runs its job.
"""

import time

import pytest
from sqlalchemy import select

from gerbang_protocol import Reason, check_qr, open_bundle
from gerbang_server import db, jobs, keys, trustlists
from gerbang_server.issuing import issue

from .conftest import DAY, T0

A = "/api/v1/admin"


def bundle_now(app, area=1) -> bytes:
    """The stored current bundle (what a syncing door would get), without re-signing."""
    with app.app_context(), db.begin() as conn:
        return bytes(db.latest_trustlist(conn, area)["bundle"])


def decide(app, qr, root_pub, t, area=1):
    return check_qr(qr, bundle_now(app, area), root_pub, area, t)


def job(app, t):
    with app.app_context():
        return jobs.run_jobs(t)


def test_rotation_overlap_then_rejection(app, clock, area_ready):
    root = area_ready["root_pub"]
    with app.app_context():
        c1 = issue(1, category=1, doses=2, t=clock.t)  # exp T0+30d, key K1
    # day 28: the job pre-publishes K2 (activates at day 30); issuing still uses K1
    clock.t = T0 + 28 * DAY
    report = job(app, clock.t)
    assert any("activates at" in r for r in report["rotations"] if r.startswith("area 1:"))
    _, tl = open_bundle(bundle_now(app), root, clock.t)
    assert len(tl.keys) == 2 and tl.keys[1].accept_from > clock.t  # K2 published, not active
    with app.app_context():
        c2 = issue(1, category=1, doses=2, t=clock.t)  # K1 again, exp day 58
    assert c2["kid"] == c1["kid"]
    # day 30: K2 is active, new certificates use it; old ones still pass
    clock.t = T0 + 30 * DAY + 1
    job(app, clock.t)
    with app.app_context():
        c3 = issue(1, category=1, doses=2, t=clock.t)
    assert c3["kid"] != c1["kid"]
    assert decide(app, c3["qr"], root, clock.t).allow
    assert decide(app, c2["qr"], root, clock.t).allow  # signed before the rotation
    # c1 expired exactly at day 30: denied as EXPIRED, not for its key
    assert decide(app, c1["qr"], root, clock.t).reason == Reason.EXPIRED
    # through the overlap, the daily job keeps lists fresh and c2 keeps passing
    for day in range(31, 58):
        clock.t = T0 + day * DAY
        job(app, clock.t)
        d = decide(app, c2["qr"], root, clock.t)
        assert d.allow, (day, d)
    # K1's window (K2 activation + 30 days max validity = day 60) closes: K1 leaves the list
    clock.t = T0 + 60 * DAY
    job(app, clock.t)
    _, tl = open_bundle(bundle_now(app), root, clock.t)
    assert bytes.fromhex(c1["kid"]) not in [k.kid for k in tl.keys]
    assert decide(app, c2["qr"], root, clock.t).reason == Reason.UNKNOWN_KID
    assert decide(app, c3["qr"], root, clock.t).allow  # K2's certificate: exp day 60 + 1 s
    assert decide(app, c3["qr"], root, c3["exp"]).reason == Reason.EXPIRED


def test_old_key_window_covers_longest_certificate(app, clock, area_ready):
    """accept_until of a retired key is after the latest exp it signed (spec §4)."""
    root = area_ready["root_pub"]
    clock.t = T0 + 29 * DAY
    with app.app_context():
        late = issue(1, category=5, t=clock.t)  # K1, exp day 59
        with db.begin() as conn:
            keys.rotate_now(conn, 1, clock.t + 10)  # K2 from day 29 (+10 s)
        trustlists.refresh(1, t=clock.t + 10)
    _, tl = open_bundle(bundle_now(app), root, clock.t + 10)
    k1 = next(k for k in tl.keys if k.kid.hex() == late["kid"])
    assert k1.accept_until >= late["exp"]
    clock.t = late["exp"] - 1
    job(app, clock.t)
    assert decide(app, late["qr"], root, clock.t).allow


def test_revoked_key_fails_at_next_trust_list(app, client, auth, clock, area_ready):
    root = area_ready["root_pub"]
    with app.app_context():
        cert = issue(1, category=1, doses=3, t=clock.t)
    before = bundle_now(app)
    assert check_qr(cert["qr"], before, root, 1, clock.t).allow
    key_id = cert["key_id"]
    r = client.post(f"{A}/keys/{key_id}/revoke", json={"reason": "compromised"}, headers=auth)
    assert r.status_code == 200
    after = bundle_now(app)
    _, tl_before = open_bundle(before, root, clock.t)
    _, tl_after = open_bundle(after, root, clock.t)
    assert tl_after.serial == tl_before.serial + 1  # bumped at once
    assert check_qr(cert["qr"], before, root, 1, clock.t).allow  # the door's old list
    assert check_qr(cert["qr"], after, root, 1, clock.t).reason == Reason.UNKNOWN_KID
    # issuing goes on with a fresh key, never the revoked one
    with app.app_context():
        fresh = issue(1, category=1, doses=3, t=clock.t)
    assert fresh["key_id"] != key_id
    assert decide(app, fresh["qr"], root, clock.t).allow


def test_revoked_current_key_does_not_revive_older_key(app, clock, area_ready):
    """Revoking the issuing key makes its replacement at once (same trust-list bump); the
    older, retired key never becomes the issuing key again."""
    with app.app_context():
        first = issue(1, category=5, t=clock.t)
        clock.advance(60)
        with db.begin() as conn:
            k2 = keys.rotate_now(conn, 1, clock.t)
            keys.revoke_key(conn, k2, clock.t, "test")
            cur = keys.current_key(conn, 1, clock.t)
        assert cur is not None and cur["id"] not in (first["key_id"], k2)
        again = issue(1, category=5, t=clock.t)
    assert again["key_id"] == cur["id"]


def test_lists_never_expire_while_job_runs(app, clock, area_ready):
    """100 days of daily job runs (cron): at every moment, every area's stored list is valid
    for longer than RESIGN_BEFORE minus one job interval, and a fresh certificate passes."""
    root = area_ready["root_pub"]
    resign_before = app.config["GERBANG_TRUSTLIST_RESIGN_BEFORE"]
    interval = DAY
    serials = []
    for step in range(100):
        clock.t = T0 + step * interval + 3600
        report = job(app, clock.t)
        assert report["errors"] == []
        with app.app_context(), db.begin() as conn:
            rows = [db.latest_trustlist(conn, a) for a in range(1, 19)]
        assert all(r is not None for r in rows)
        for r in rows:
            assert r["expires"] - clock.t >= resign_before - interval
        serials.append(rows[0]["serial"])
        # just before the next run the list is still valid
        assert rows[0]["expires"] > clock.t + interval
        if step % 10 == 0:
            with app.app_context():
                c = issue(1, category=1, doses=2, valid_for=2 * DAY, t=clock.t)
            assert decide(app, c["qr"], root, clock.t + interval - 1).allow
    assert serials == sorted(serials) and serials[-1] > serials[0]
    # key rotations happened on schedule (every 30 days over 100 days)
    with app.app_context(), db.begin() as conn:
        assert len(db.area_keys(conn, 1)) >= 4


def test_without_job_list_does_expire(app, clock, area_ready):
    """The check above can fail: with no job run, the stored list lapses after 14 days."""
    root = area_ready["root_pub"]
    with app.app_context():
        c = issue(1, category=5, valid_for=20 * DAY, t=clock.t)
    clock.t = T0 + 15 * DAY
    assert decide(app, c["qr"], root, clock.t).reason == Reason.NO_TRUST


def test_rotation_schedule_config(app, clock, area_ready):
    app.config["GERBANG_KEY_ROTATION_PERIOD"] = 10 * DAY
    app.config["GERBANG_KEY_PREPUBLISH"] = DAY
    clock.t = T0 + 8 * DAY
    assert [r for r in job(app, clock.t)["rotations"] if r.startswith("area 1:")] == []
    clock.t = T0 + 9 * DAY
    assert [r for r in job(app, clock.t)["rotations"] if r.startswith("area 1:")] != []
    # a second run does not make a second pending key
    assert [r for r in job(app, clock.t)["rotations"] if r.startswith("area 1:")] == []


def test_in_process_timer_signs_lists(database, clock, pki):
    from .conftest import import_signer, make_test_app

    app = make_test_app(database, clock, GERBANG_JOBS_IN_PROCESS=True,
                        GERBANG_JOBS_INTERVAL=0.05)
    try:
        import_signer(app, pki)
        timer = app.extensions["gerbang_jobs"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.app_context(), db.begin() as conn:
                n = conn.execute(select(db.trustlists.c.area_id).distinct()).all()
            # the lists are committed inside a pass; the pass is counted just after it
            if len(n) == 18 and timer.passes >= 1:
                break
            time.sleep(0.05)
        assert len(n) == 18
        assert timer.thread.is_alive() and timer.passes >= 1
    finally:
        app.extensions["gerbang_jobs"].stop()
        app.extensions["gerbang_engine"].dispose()
    # its own timer stopped (other apps of this test process may run theirs)
    assert not timer.thread.is_alive()


@pytest.mark.parametrize("raw", ["", "zz", "ab" * 31, "not base64!"])
def test_bad_kek_refused(raw):
    with pytest.raises(ValueError):
        keys.parse_kek(raw)


def test_kek_forms_and_encryption():
    import base64

    k = bytes(range(32))
    assert keys.parse_kek(k.hex()) == k and keys.parse_kek(base64.b64encode(k).decode()) == k
    blob = keys.encrypt_seed(b"s" * 32, "issuer", b"k" * 8, key=k)
    assert b"s" * 32 not in blob
    assert keys.decrypt_seed(blob, "issuer", b"k" * 8, key=k) == b"s" * 32
    from gerbang_server.errors import ApiError

    with pytest.raises(ApiError):
        keys.decrypt_seed(blob, "signer", b"k" * 8, key=k)  # bound to its purpose
    with pytest.raises(ApiError):
        keys.decrypt_seed(blob, "issuer", b"k" * 8, key=bytes(32))  # wrong KEK


def test_private_keys_encrypted_at_rest(app, area_ready):
    from gerbang_protocol import private_key_bytes

    with app.app_context(), db.begin() as conn:
        rows = conn.execute(select(db.issuer_keys)).all() + conn.execute(
            select(db.signer_keys)).all()
    seed = private_key_bytes(area_ready["signer"])
    assert rows
    for r in rows:
        assert len(r.private_key_enc) == 12 + 32 + 16
        assert seed not in r.private_key_enc
