"""Admin actions of the dashboard through the Flask test client (SQLite and PostgreSQL):
revoke a key, revoke a certificate, rename an area, move and retire a unit — each needs an
admin, a CSRF token and (keys, certificates, retiring) a confirmation; each writes the audit
log with the dashboard user as actor and re-signs the trust list where doors must know."""

from __future__ import annotations

import re

from gerbang_protocol import kid_of, new_private_key, public_key_bytes
from gerbang_server import db, keys
from gerbang_server.dashboard import accounts

PASSWORD = "a long enough password"


def login_as(app, client, name: str, role: str) -> str:
    with app.app_context(), db.begin() as conn:
        accounts.create_user(conn, name, PASSWORD, role, [], app.config["GERBANG_NOW"]())
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"csrf": token, "username": name,
                                       "password": PASSWORD}).status_code == 302
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/keys").text).group(1)


def last_audit(app):
    with app.app_context(), db.begin() as conn:
        return db.list_audit(conn, 0, 1000)[-1]


def serial(app, area=1):
    with app.app_context(), db.begin() as conn:
        return db.latest_trustlist(conn, area)["serial"]


def test_revoke_key_behind_a_confirmation(app, client, area_ready):
    token = login_as(app, client, "boss", "admin")
    with app.app_context(), db.begin() as conn:
        key = keys.current_key(conn, 1, app.config["GERBANG_NOW"]())
    page = client.get(f"/keys/{key['id']}/revoke")
    assert page.status_code == 200 and 'id="confirm"' in page.text
    assert client.post(f"/keys/{key['id']}/revoke", data={"reason": "x"}).status_code == 400
    r = client.post(f"/keys/{key['id']}/revoke", data={"csrf": token, "reason": "lost laptop"})
    assert r.status_code == 302
    with app.app_context(), db.begin() as conn:
        assert db.get_issuer_key(conn, key["id"])["revoked_at"] is not None
    a = last_audit(app)
    assert (a["actor"], a["action"], a["target"]) == ("boss", "key.revoke", str(key["id"]))
    assert serial(app) == area_ready["serial"] + 1  # doors learn it from the next list
    assert "lost laptop" in client.get("/areas/1").text


def test_revoke_certificate_behind_a_confirmation(app, client, area_ready):
    from gerbang_server.issuing import issue

    with app.app_context():
        cert = issue(1, 2)
    token = login_as(app, client, "boss", "admin")
    page = client.get(f"/revocations?cti={cert['cti']}&reason=stolen")
    assert page.status_code == 200 and 'value="stolen"' in page.text
    assert client.get("/revocations?cti=zz").status_code == 400
    assert client.get("/revocations?cti=" + "0" * 32).status_code == 404
    r = client.post("/revocations", data={"csrf": token, "cti": cert["cti"], "reason": "stolen"})
    assert r.status_code == 302
    with app.app_context(), db.begin() as conn:
        revs = db.list_revocations(conn, 1)
    assert len(revs) == 1 and revs[0]["reason"] == "stolen"
    a = last_audit(app)
    assert (a["actor"], a["action"]) == ("boss", "cert.revoke")
    assert client.post("/revocations", data={"csrf": token, "cti": cert["cti"]}).status_code \
        == 409  # already revoked: said so, nothing changes


def test_rename_area_move_and_retire_unit(app, client):
    token = login_as(app, client, "boss", "admin")
    pub = public_key_bytes(new_private_key())
    with app.app_context(), db.begin() as conn:
        db.insert_device(conn, "door-x", 1, pub, kid_of(pub), 0)
    assert client.post("/areas/1/name", data={"csrf": token, "name": "Balai Kota"}).status_code \
        == 302
    assert "Balai Kota" in client.get("/areas/1").text
    assert client.post("/units/door-x/edit", data={"csrf": token, "action": "move",
                                                   "area": "3"}).status_code == 302
    assert client.post("/units/door-x/edit", data={"csrf": token, "action": "retire"}) \
        .status_code == 400  # the confirmation box was not ticked
    assert client.post("/units/door-x/edit", data={"csrf": token, "action": "retire",
                                                   "confirm": "yes"}).status_code == 302
    with app.app_context(), db.begin() as conn:
        d = db.get_device(conn, "door-x")
        actions = [(e["actor"], e["action"]) for e in db.list_audit(conn, 0, 1000)]
    assert (d["area_id"], d["state"]) == (3, "retired")
    assert [x for x in actions if x[0] == "boss"][-3:] == [
        ("boss", "area.rename"), ("boss", "device.move"), ("boss", "device.retire")]


def test_viewer_gets_403_on_every_admin_action(app, client, area_ready):
    token = login_as(app, client, "look", "viewer")
    with app.app_context(), db.begin() as conn:
        key = keys.current_key(conn, 1, app.config["GERBANG_NOW"]())
    for path, data in [("/keys/rotate/1", {}), (f"/keys/{key['id']}/revoke", {}),
                       ("/revocations", {"cti": "0" * 32}), ("/areas/1/name", {"name": "x"}),
                       ("/units/door-1/edit", {"action": "retire", "confirm": "yes"})]:
        assert client.post(path, data={"csrf": token, **data}).status_code == 403, path
    assert serial(app) == area_ready["serial"]
