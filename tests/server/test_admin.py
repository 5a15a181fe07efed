"""Admin API: areas, devices, keys, signer, revocations — every endpoint, malformed input."""

import base64

import pytest

from gerbang_protocol import kid_of, new_private_key, public_key_bytes

A = "/api/v1/admin"


# --- areas ---------------------------------------------------------------------------------

def test_areas_seeded_from_json(client, auth):
    areas = client.get(f"{A}/areas", headers=auth).get_json()["areas"]
    assert [a["id"] for a in areas] == list(range(1, 19))
    assert areas[0]["slug"] == "balai-kota"
    assert areas[0]["policy"]["categories"] == 0b111110
    assert areas[0]["trustlist"] is None


def test_get_area_and_unknown(client, auth):
    r = client.get(f"{A}/areas/3", headers=auth)
    assert r.status_code == 200 and r.get_json()["id"] == 3 and r.get_json()["keys"] == []
    r = client.get(f"{A}/areas/19", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_area"
    assert client.get(f"{A}/areas/abc", headers=auth).status_code == 404


def test_patch_area_policy_resigns_list(client, auth, area_ready):
    r = client.patch(f"{A}/areas/1", json={"policy": {"min_doses": 2, "reuse_window": 60}},
                     headers=auth)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["policy"]["min_doses"] == 2 and body["policy"]["reuse_window"] == 60
    assert body["trustlist"]["serial"] == area_ready["serial"] + 1


def test_patch_area_name_only_keeps_list(client, auth, area_ready):
    r = client.patch(f"{A}/areas/1", json={"name": "Balai Kota"}, headers=auth)
    assert r.status_code == 200
    assert r.get_json()["name"] == "Balai Kota"
    assert r.get_json()["trustlist"]["serial"] == area_ready["serial"]


def test_patch_area_without_signer_notes_pending(client, auth):
    r = client.patch(f"{A}/areas/2", json={"policy": {"clock_policy": 0}}, headers=auth)
    assert r.status_code == 200 and r.get_json()["policy"]["clock_policy"] == 0
    audit = client.get(f"{A}/audit", headers=auth).get_json()["entries"]
    assert "trustlist_pending" in audit[-1]["details"]


@pytest.mark.parametrize("body, code", [
    ({"policy": {"min_doses": 16}}, "bad_field"),
    ({"policy": {"min_doses": "2"}}, "bad_field"),
    ({"policy": {"min_doses": True}}, "bad_field"),
    ({"policy": {"clock_policy": 2}}, "bad_field"),
    ({"policy": {"categories": 1 << 6}}, "bad_field"),
    ({"policy": {"bogus": 1}}, "unknown_field"),
    ({"policy": [1]}, "bad_field"),
    ({"name": ""}, "bad_field"),
    ({"name": 5}, "bad_field"),
    ({"slug": "x"}, "unknown_field"),
])
def test_patch_area_malformed(client, auth, body, code):
    r = client.patch(f"{A}/areas/1", json=body, headers=auth)
    assert r.status_code == 400
    assert r.get_json()["error"] == code


def test_patch_unknown_area(client, auth):
    r = client.patch(f"{A}/areas/99", json={"name": "x"}, headers=auth)
    assert r.status_code == 404


@pytest.mark.parametrize("data, ctype, code", [
    ("{not json", "application/json", "bad_json"),
    ("[1, 2]", "application/json", "bad_json"),
    ('"text"', "application/json", "bad_json"),
    ('{"name": "x"}', "text/plain", "bad_json"),
    ("", "application/json", "bad_json"),
])
def test_bad_json_bodies(client, auth, data, ctype, code):
    r = client.patch(f"{A}/areas/1", data=data, content_type=ctype, headers=auth)
    assert r.status_code == 400
    assert r.get_json()["error"] == code


# --- devices -------------------------------------------------------------------------------

def test_register_device(client, auth):
    priv = new_private_key()
    pub = public_key_bytes(priv)
    r = client.post(f"{A}/devices", json={"id": "door-7", "area": 4, "public_key": pub.hex(),
                                          "firmware": "1.0"}, headers=auth)
    assert r.status_code == 201
    d = r.get_json()
    assert d["id"] == "door-7" and d["area"] == 4 and d["state"] == "active"
    assert d["kid"] == kid_of(pub).hex() and d["public_key"] == pub.hex()
    assert d["last_sync_at"] is None and d["acked_seq"] == 0
    assert client.get(f"{A}/devices/door-7", headers=auth).get_json() == d


def test_register_device_base64_key(client, auth):
    pub = public_key_bytes(new_private_key())
    r = client.post(f"{A}/devices", json={"id": "d64", "area": 1,
                                          "public_key": base64.b64encode(pub).decode()},
                    headers=auth)
    assert r.status_code == 201 and r.get_json()["public_key"] == pub.hex()


def test_register_duplicate(client, auth, register_device):
    register_device("door-1")
    pub = public_key_bytes(new_private_key()).hex()
    r = client.post(f"{A}/devices", json={"id": "door-1", "area": 1, "public_key": pub},
                    headers=auth)
    assert r.status_code == 409 and r.get_json()["error"] == "device_exists"


PUB = "ab" * 32


@pytest.mark.parametrize("body, status, code", [
    ({"area": 1, "public_key": PUB}, 400, "missing_field"),
    ({"id": "d", "public_key": PUB}, 400, "missing_field"),
    ({"id": "d", "area": 1}, 400, "missing_field"),
    ({"id": "d", "area": 1, "public_key": "ab" * 31}, 400, "bad_key_length"),
    ({"id": "d", "area": 1, "public_key": "ab" * 33}, 400, "bad_key_length"),
    ({"id": "d", "area": 1, "public_key": ""}, 400, "bad_key_length"),
    ({"id": "d", "area": 1, "public_key": "zz!"}, 400, "bad_field"),
    ({"id": "d", "area": 1, "public_key": 12}, 400, "bad_field"),
    ({"id": "d", "area": 1, "public_key": [1, 2]}, 400, "bad_field"),
    ({"id": "d", "area": "1", "public_key": PUB}, 400, "bad_field"),
    ({"id": "d", "area": 1.0, "public_key": PUB}, 400, "bad_field"),
    ({"id": "d", "area": True, "public_key": PUB}, 400, "bad_field"),
    ({"id": "d", "area": 0, "public_key": PUB}, 400, "bad_field"),
    ({"id": "d", "area": 19, "public_key": PUB}, 404, "unknown_area"),
    ({"id": "", "area": 1, "public_key": PUB}, 400, "bad_field"),
    ({"id": "x" * 33, "area": 1, "public_key": PUB}, 400, "bad_field"),
    ({"id": "bad id", "area": 1, "public_key": PUB}, 400, "bad_field"),
    ({"id": "../x", "area": 1, "public_key": PUB}, 400, "bad_field"),
    ({"id": 5, "area": 1, "public_key": PUB}, 400, "bad_field"),
    ({"id": "d", "area": 1, "public_key": PUB, "firmware": 1}, 400, "bad_field"),
    ({"id": "d", "area": 1, "public_key": PUB, "firmware": "x" * 33}, 400, "bad_field"),
])
def test_register_device_malformed(client, auth, body, status, code):
    r = client.post(f"{A}/devices", json=body, headers=auth)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"] == code
    assert client.get(f"{A}/devices", headers=auth).get_json()["devices"] == []


def test_register_device_not_json(client, auth):
    r = client.post(f"{A}/devices", data="id=d", headers=auth,
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.get_json()["error"] == "bad_json"


def test_list_devices_filters(client, auth, register_device):
    register_device("a1", area=1)
    register_device("a2", area=2)
    register_device("a3", area=2)
    client.post(f"{A}/devices/a3/retire", headers=auth)
    ids = lambda q: [d["id"] for d in client.get(f"{A}/devices{q}", headers=auth)  # noqa: E731
                     .get_json()["devices"]]
    assert ids("") == ["a1", "a2", "a3"]
    assert ids("?area=2") == ["a2", "a3"]
    assert ids("?state=active") == ["a1", "a2"]
    assert ids("?area=2&state=retired") == ["a3"]
    assert client.get(f"{A}/devices?state=gone", headers=auth).status_code == 400
    assert client.get(f"{A}/devices?area=x", headers=auth).status_code == 400


def test_get_unknown_device(client, auth):
    r = client.get(f"{A}/devices/nope", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_device"


def test_move_device(client, auth, register_device):
    register_device("m1", area=1)
    r = client.patch(f"{A}/devices/m1", json={"area": 5}, headers=auth)
    assert r.status_code == 200 and r.get_json()["area"] == 5
    assert client.get(f"{A}/devices?area=5", headers=auth).get_json()["devices"][0]["id"] == "m1"


def test_device_config(client, auth, register_device):
    register_device("c1")
    r = client.patch(f"{A}/devices/c1", json={"config": {"sync_interval_s": 600}}, headers=auth)
    assert r.status_code == 200 and r.get_json()["config"] == {"sync_interval_s": 600}
    r = client.patch(f"{A}/devices/c1", json={"config": None}, headers=auth)
    assert r.get_json()["config"] is None


@pytest.mark.parametrize("body, status, code", [
    ({"area": 99}, 404, "unknown_area"),
    ({"area": "5"}, 400, "bad_field"),
    ({"state": "retired"}, 400, "unknown_field"),
    ({"config": {"sync_interval_s": 59}}, 400, "bad_config"),
    ({"config": {"relay_ms": 60}}, 400, "bad_config"),  # the door's minimum is 100
    ({"config": {"sync_interval": 600}}, 400, "bad_config"),  # not a key the door knows
    ({"config": {"colour": 1}}, 400, "bad_config"),
    ({"config": 5}, 400, "bad_field"),
])
def test_patch_device_malformed(client, auth, register_device, body, status, code):
    register_device("p1", area=1)
    r = client.patch(f"{A}/devices/p1", json=body, headers=auth)
    assert r.status_code == status and r.get_json()["error"] == code
    assert client.get(f"{A}/devices/p1", headers=auth).get_json()["area"] == 1


def test_patch_unknown_device(client, auth):
    assert client.patch(f"{A}/devices/zz", json={"area": 2}, headers=auth).status_code == 404


def test_retire_device(client, auth, register_device):
    register_device("r1")
    r = client.post(f"{A}/devices/r1/retire", headers=auth)
    assert r.status_code == 200 and r.get_json()["state"] == "retired"
    assert r.get_json()["retired_at"] is not None
    r = client.post(f"{A}/devices/r1/retire", headers=auth)
    assert r.status_code == 409
    r = client.patch(f"{A}/devices/r1", json={"area": 2}, headers=auth)
    assert r.status_code == 409 and r.get_json()["error"] == "device_retired"
    assert client.post(f"{A}/devices/nope/retire", headers=auth).status_code == 404


def test_wrong_method_is_json(client, auth):
    r = client.delete(f"{A}/devices", headers=auth)
    assert r.status_code == 405 and r.get_json()["error"] == "method_not_allowed"


# --- keys and signer -----------------------------------------------------------------------

def test_keys_listing(client, auth, area_ready):
    keys = client.get(f"{A}/areas/1/keys", headers=auth).get_json()["keys"]
    assert len(keys) == 1 and keys[0]["state"] == "current"
    assert keys[0]["accept_until"] is None
    assert "private" not in str(keys[0]).lower()
    assert client.get(f"{A}/areas/77/keys", headers=auth).status_code == 404


def test_rotate_and_revoke_via_api(client, auth, area_ready):
    r = client.post(f"{A}/areas/1/keys/rotate", headers=auth)
    assert r.status_code == 201, r.get_json()
    new = r.get_json()["key"]
    assert new["state"] == "current"
    assert r.get_json()["trustlist"]["serial"] == area_ready["serial"] + 1
    keys = client.get(f"{A}/areas/1/keys", headers=auth).get_json()["keys"]
    old = next(k for k in keys if k["id"] != new["id"])
    assert old["state"] == "retired" and old["accept_until"] is not None
    r = client.post(f"{A}/keys/{old['id']}/revoke", json={"reason": "lost laptop"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["key"]["state"] == "revoked"
    assert r.get_json()["trustlist"]["serial"] == area_ready["serial"] + 2
    r = client.post(f"{A}/keys/{old['id']}/revoke", headers=auth)
    assert r.status_code == 409 and r.get_json()["error"] == "already_revoked"


@pytest.mark.parametrize("path, body, status", [
    ("/keys/9999/revoke", None, 404),
    ("/keys/abc/revoke", None, 404),
    ("/keys/1/revoke", {"reason": 5}, 400),
    ("/areas/99/keys/rotate", None, 404),
])
def test_key_endpoints_malformed(client, auth, area_ready, path, body, status):
    r = client.post(A + path, json=body, headers=auth) if body is not None else \
        client.post(A + path, headers=auth)
    assert r.status_code == status


def test_rotate_without_kek_refused(app, client, auth):
    app.config["GERBANG_KEK"] = None
    r = client.post(f"{A}/areas/1/keys/rotate", headers=auth)
    assert r.status_code == 503 and r.get_json()["error"] == "no_kek"


def test_resign_forces_new_serial(client, auth, area_ready):
    r = client.post(f"{A}/areas/1/trustlist/resign", headers=auth)
    assert r.status_code == 200
    assert r.get_json()["trustlist"]["serial"] == area_ready["serial"] + 1
    assert client.post(f"{A}/areas/42/trustlist/resign", headers=auth).status_code == 404


def test_resign_without_signer(client, auth):
    r = client.post(f"{A}/areas/1/trustlist/resign", headers=auth)
    assert r.status_code == 503 and r.get_json()["error"] == "no_signer"


def test_signer_info(client, auth, area_ready):
    body = client.get(f"{A}/signer", headers=auth).get_json()
    assert body["current"] == body["signers"][0]["id"]
    assert body["signers"][0]["public_key"] == area_ready["pki"].signer_pub.hex()
