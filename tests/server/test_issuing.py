"""Issuing certificates: newest key, QR verifies at a door, no personal data stored."""

import pytest
from sqlalchemy import select

from gerbang_protocol import Reason, check_qr, decode_claims, decode_qr, decode_sign1, open_bundle
from gerbang_server import db

from .conftest import DAY, T0

URL = "/api/v1/admin/areas/{}/certificates"


def claims_of(qr):
    return decode_claims(decode_sign1(decode_qr(qr)).payload)


def test_issue_passes_check_at_door(client, auth, area_ready, clock):
    r = client.post(URL.format(1), json={"category": 1, "doses": 2}, headers=auth)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["qr"].startswith("GB1:") and len(out["cti"]) == 32
    assert out["iat"] == T0 and out["nbf"] == T0 and out["exp"] == T0 + 30 * DAY
    c = claims_of(out["qr"])
    assert c.cti.hex() == out["cti"] and c.status.category == 1 and c.status.doses == 2
    assert c.iss == "GB/balai-kota"
    bundle = client.get("/api/v1/areas/1/trustlist").data
    d = check_qr(out["qr"], bundle, area_ready["root_pub"], 1, clock.t)
    assert d.allow and d.kid.hex() == out["kid"]
    # other area's door: that key is not among its keys, but its list names the kid as
    # another area's (label 9): valid, but not here
    other = client.get("/api/v1/areas/2/trustlist").data
    d = check_qr(out["qr"], other, area_ready["root_pub"], 2, clock.t)
    assert d.reason == Reason.WRONG_AREA and d.kid.hex() == out["kid"] and not d.allow
    assert open_bundle(other, area_ready["root_pub"], clock.t)[1].other_kids == \
        [bytes.fromhex(out["kid"])]


def test_issue_uses_newest_active_key(client, auth, area_ready, clock):
    first = client.post(URL.format(1), json={"category": 5}, headers=auth).get_json()
    clock.advance(10)
    new = client.post("/api/v1/admin/areas/1/keys/rotate", headers=auth).get_json()["key"]
    second = client.post(URL.format(1), json={"category": 5}, headers=auth).get_json()
    assert second["kid"] == new["kid"] != first["kid"]


def test_issue_areas_and_validity(client, auth, area_ready, clock):
    r = client.post(URL.format(1), json={"category": 3, "areas": [1, 3, 3], "valid_for": 3600,
                                         "nbf": T0 + 60}, headers=auth)
    out = r.get_json()
    c = claims_of(out["qr"])
    assert c.status.areas == (1, 3) and c.nbf == T0 + 60 and c.exp == T0 + 3660
    bundle = client.get("/api/v1/areas/1/trustlist").data
    assert check_qr(out["qr"], bundle, area_ready["root_pub"], 1, T0).reason == \
        Reason.NOT_YET_VALID


def test_first_issue_creates_and_publishes_key(client, auth, area_ready, clock):
    out = client.post(URL.format(7), json={"category": 5}, headers=auth).get_json()
    bundle = client.get("/api/v1/areas/7/trustlist").data
    assert check_qr(out["qr"], bundle, area_ready["root_pub"], 7, clock.t).allow


def test_no_personal_data_stored(app, client, auth, area_ready):
    out = client.post(URL.format(1), json={"category": 1, "doses": 2}, headers=auth).get_json()
    with app.app_context(), db.begin() as conn:
        rows = [tuple(r) for r in conn.execute(select(db.issued_certs))]
        audit = [tuple(r) for r in conn.execute(select(db.audit_log))]
    assert len(rows) == 1
    cti = bytes.fromhex(out["cti"])
    blob = repr(rows) + repr(audit)
    assert cti not in repr(rows).encode() and out["cti"] not in blob and out["qr"] not in blob
    assert set(db.issued_certs.c.keys()) == {"id", "cti_hash", "area_id", "key_id", "iat", "exp",
                                             "category"}


@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "missing_field"),
    ({"category": 0}, 400, "bad_field"),
    ({"category": 6}, 400, "bad_field"),
    ({"category": "1"}, 400, "bad_field"),
    ({"category": 1, "doses": 16}, 400, "bad_field"),
    ({"category": 1, "doses": -1}, 400, "bad_field"),
    ({"category": 1, "valid_for": 0}, 400, "bad_field"),
    ({"category": 1, "valid_for": 31 * DAY}, 400, "bad_field"),
    ({"category": 1, "areas": []}, 400, "bad_field"),
    ({"category": 1, "areas": [19]}, 400, "bad_field"),
    ({"category": 1, "areas": ["1"]}, 400, "bad_field"),
    ({"category": 1, "areas": 1}, 400, "bad_field"),
    ({"category": 1, "nbf": T0 - 2 * DAY}, 400, "bad_field"),
    ({"category": 1, "iss": "x" * 65}, 400, "bad_field"),
    ({"category": 1, "name": "Budi"}, 400, "unknown_field"),
])
def test_issue_malformed(app, client, auth, area_ready, body, status, code):
    r = client.post(URL.format(1), json=body, headers=auth)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"] == code
    with app.app_context(), db.begin() as conn:
        assert conn.execute(select(db.issued_certs)).all() == []


def test_issue_unknown_area_and_no_kek(app, client, auth, area_ready):
    r = client.post(URL.format(30), json={"category": 1}, headers=auth)
    assert r.status_code == 404
    app.config["GERBANG_KEK"] = None
    r = client.post(URL.format(1), json={"category": 1}, headers=auth)
    assert r.status_code == 503 and r.get_json()["error"] == "no_kek"


def test_revoke_certificate(client, auth, area_ready, clock):
    out = client.post(URL.format(1), json={"category": 1, "doses": 2}, headers=auth).get_json()
    r = client.post("/api/v1/admin/revocations", json={"cti": out["cti"], "reason": "lost"},
                    headers=auth)
    assert r.status_code == 201
    assert r.get_json()["trustlist"]["serial"] == area_ready["serial"] + 1
    bundle = client.get("/api/v1/areas/1/trustlist").data
    assert check_qr(out["qr"], bundle, area_ready["root_pub"], 1, clock.t).reason == \
        Reason.REVOKED
    listed = client.get("/api/v1/admin/revocations?area=1", headers=auth).get_json()
    assert [x["area"] for x in listed["revocations"]] == [1]
    again = client.post("/api/v1/admin/revocations", json={"cti": out["cti"]}, headers=auth)
    assert again.status_code == 409


@pytest.mark.parametrize("body, status", [
    ({"cti": "00" * 16}, 404),
    ({"cti": "00" * 15}, 400),
    ({"cti": "zz" * 16}, 400),
    ({"cti": 5}, 400),
    ({}, 400),
    ({"cti": "00" * 16, "reason": 1}, 400),
])
def test_revoke_certificate_malformed(client, auth, area_ready, body, status):
    assert client.post("/api/v1/admin/revocations", json=body, headers=auth).status_code == status


def test_revocations_query(client, auth):
    assert client.get("/api/v1/admin/revocations?area=abc", headers=auth).status_code == 400
    assert client.get("/api/v1/admin/revocations?live=1", headers=auth).get_json() == {
        "revocations": []}
