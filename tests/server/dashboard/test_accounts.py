"""Dashboard accounts and sessions through the Flask test client (SQLite and PostgreSQL):
the create-user command, log-in lock-out, sessions ending on a password change, CSRF on the
log-in form, the dashboard off without a secret key, counts kept at ingest."""

from __future__ import annotations

import re

from gerbang_server import db
from gerbang_server.dashboard import accounts, counts

PASSWORD = "a long enough password"


def make_user(app, name="viewer1", role="viewer", areas=()):
    with app.app_context(), db.begin() as conn:
        return accounts.create_user(conn, name, PASSWORD, role, list(areas),
                                    app.config["GERBANG_NOW"]())


def csrf(client, path="/login") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def log_in(client, name, password=PASSWORD):
    return client.post("/login", data={"csrf": csrf(client), "username": name,
                                       "password": password})


def test_create_user_command_and_its_errors(app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["create-user", "pic7", "--role", "pic", "--area", "7",
                            "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "user pic7 created: pic areas 7" in r.output
    for args, message in [
        (["pic8", "--role", "pic"], "needs --area"),
        (["pic8", "--role", "pic", "--area", "99"], "no area 99"),
        (["view", "--role", "viewer", "--area", "1"], "sees every area"),
        (["pic7", "--role", "admin"], "already exists"),
        (["Bad Name", "--role", "admin"], "user name"),
    ]:
        r = runner.invoke(args=["create-user", *args, "--password-stdin"],
                          input=PASSWORD + "\n")
        assert r.exit_code != 0 and message in r.output, (args, r.output)
    r = runner.invoke(args=["create-user", "short", "--role", "admin", "--password-stdin"],
                      input="tiny\n")
    assert r.exit_code != 0 and "at least 10" in r.output
    r = runner.invoke(args=["list-users"])
    assert "pic7\tpic\t7" in r.output
    with app.app_context(), db.begin() as conn:
        row = conn.execute(db.dashboard_users.select()).first()
    assert row.password_hash.startswith("scrypt:") and PASSWORD not in row.password_hash


def test_lock_out_after_repeated_failures(app, client, clock):
    make_user(app)
    for _ in range(accounts.MAX_FAILURES):
        r = log_in(client, "viewer1", "wrong password!")
        assert r.status_code == 401 and "salah" in r.text
    r = log_in(client, "viewer1")  # right password, but locked
    assert r.status_code == 401 and "Terlalu banyak" in r.text
    assert client.get("/").status_code == 302
    clock.advance(accounts.LOCK_SECONDS)
    r = log_in(client, "viewer1")
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context(), db.begin() as conn:
        actions = [a["action"] for a in db.list_audit(conn)]
    assert actions.count("dashboard.login_failed") == accounts.MAX_FAILURES
    assert actions.count("dashboard.login") == 1


def test_unknown_names_are_throttled_too(app, client):
    for _ in range(accounts.MAX_FAILURES):
        log_in(client, "nobody", "whatever123")
    r = log_in(client, "nobody", "whatever123")
    assert "Terlalu banyak" in r.text


def test_login_form_needs_its_csrf_token(app, client):
    make_user(app)
    client.get("/login")
    r = client.post("/login", data={"username": "viewer1", "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.text
    assert client.get("/").status_code == 302


def test_password_change_ends_sessions_and_cookie_flags(app, client):
    make_user(app)
    r = log_in(client, "viewer1")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    with app.app_context(), db.begin() as conn:
        accounts.set_password(conn, "viewer1", "another long password", 0)
    assert client.get("/").status_code == 302


def test_next_is_never_another_site(app, client):
    make_user(app)
    token = csrf(client)
    r = client.post("/login?next=//evil.example/x", data={
        "csrf": token, "username": "viewer1", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_dashboard_is_off_without_a_secret_key(database, clock, monkeypatch):
    from gerbang_server import create_app

    monkeypatch.delenv("GERBANG_SECRET_KEY", raising=False)
    url, schema = database
    app = create_app({"DATABASE_URL": url, "GERBANG_DB_SCHEMA": schema, "GERBANG_NOW": clock})
    try:
        r = app.test_client().get("/login")
        assert r.status_code == 503 and "GERBANG_SECRET_KEY" in r.text
        assert app.test_client().get("/api/v1/health").status_code == 200  # the API still runs
    finally:
        app.extensions["gerbang_engine"].dispose()


def test_retried_records_are_counted_once(app):
    rows = [(seq, 1_780_000_000 + seq * 60, seq & 1, 0 if seq & 1 else 11, 0, 0,
             b"k" * 8, b"t" * 8) for seq in range(1, 101)]
    from gerbang_protocol import kid_of

    with app.app_context(), db.begin() as conn:
        db.insert_device(conn, "d1", 1, b"p" * 32, kid_of(b"p" * 32), 0)
        from gerbang_server import sync_db

        sync_db.insert_records(conn, "d1", 1, 1, rows[:60])
        sync_db.insert_records(conn, "d1", 1, 2, rows[40:])  # 20 repeated
        total = conn.execute(db.scan_hourly.select()).all()
        assert sum(r.n for r in total) == 100
        assert counts.rebuild(conn) == len(total)
        again = conn.execute(db.scan_hourly.select()).all()
    assert sorted(map(tuple, again)) == sorted(map(tuple, total))


def test_sync_history_and_health_reach_the_unit_page(app, client, area_ready, register_device):
    import os

    from gerbang_protocol import ScanRecord, SyncRequest, make_sync_request

    priv, _ = register_device("door-9")
    t = app.config["GERBANG_NOW"]()
    for counter, heap in ((1, 70123), (2, 69877)):
        recs = b"".join(ScanRecord(s, t - 100 + s, 1, 0).pack()
                        for s in range(counter * 10 - 9, counter * 10 + 1))
        req = SyncRequest("door-9", counter, os.urandom(16), t, counter * 10 - 9, recs,
                          area_ready["serial"], "1.2.3", {1: heap, 2: 500000, 3: 0, 5: 0})
        r = client.post("/api/v1/sync", data=make_sync_request(priv, req),
                        content_type="application/cose")
        assert r.status_code == 200, r.data
    with app.app_context(), db.begin() as conn:
        rows = conn.execute(db.device_syncs.select().order_by(db.device_syncs.c.id)).all()
        hourly = sum(r.n for r in conn.execute(db.scan_hourly.select()))
    assert [(r.acked_seq, r.health["1"], r.firmware) for r in rows] == [
        (10, 70123, "1.2.3"), (20, 69877, "1.2.3")]
    assert hourly == 20
    make_user(app, "v", "viewer")
    log_in(client, "v")
    page = client.get("/units/door-9").text
    assert "70123" in page and "69877" in page and 'class="spark"' in page
