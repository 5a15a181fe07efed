"""GET /api/v1/areas/<id>/trustlist: bundle bytes, ETag/304, serial bumps, chain to root."""

import pytest

from gerbang_protocol import Policy, open_bundle, revocation_hash
from gerbang_server import db, trustlists

from .conftest import DAY, T0, import_signer, make_pki

URL = "/api/v1/areas/{}/trustlist"


def test_serves_verified_bundle(client, area_ready, clock):
    r = client.get(URL.format(1))
    assert r.status_code == 200
    assert r.mimetype == "application/cbor"
    kc, tl = open_bundle(r.data, area_ready["root_pub"], clock.t)
    assert kc.pub == area_ready["pki"].signer_pub
    assert tl.area == 1 and tl.serial == area_ready["serial"]
    assert tl.issued == T0 and tl.expires == T0 + 14 * DAY
    assert len(tl.keys) == 1 and tl.keys[0].area == 1
    assert tl.policy == Policy()
    assert len(tl.tag_key) == 16
    assert r.headers["X-Gerbang-Serial"] == str(tl.serial)


def test_etag_and_304(client, area_ready):
    r = client.get(URL.format(1))
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    r2 = client.get(URL.format(1), headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.data == b"" and r2.headers["ETag"] == etag
    r3 = client.get(URL.format(1), headers={"If-None-Match": f'"other", W/{etag}'})
    assert r3.status_code == 304
    r4 = client.get(URL.format(1), headers={"If-None-Match": '"stale"'})
    assert r4.status_code == 200 and r4.data == r.data


def test_new_serial_new_etag_after_change(client, auth, area_ready, clock):
    r = client.get(URL.format(1))
    client.patch("/api/v1/admin/areas/1", json={"policy": {"min_doses": 3}}, headers=auth)
    r2 = client.get(URL.format(1), headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 200
    _, tl = open_bundle(r2.data, area_ready["root_pub"], clock.t)
    assert tl.serial == area_ready["serial"] + 1 and tl.policy.min_doses == 3


def test_unchanged_content_keeps_serial(client, area_ready, clock):
    clock.advance(6 * DAY)  # more than RESIGN_BEFORE (7 d) still remains
    r = client.get(URL.format(1))
    assert int(r.headers["X-Gerbang-Serial"]) == area_ready["serial"]


def test_resigned_when_less_than_7_days_remain(client, area_ready, clock):
    clock.advance(7 * DAY + 1)
    r = client.get(URL.format(1))
    _, tl = open_bundle(r.data, area_ready["root_pub"], clock.t)
    assert tl.serial == area_ready["serial"] + 1
    assert tl.issued == clock.t and tl.expires == clock.t + 14 * DAY


def test_first_get_signs_for_area_without_list(client, area_ready, clock):
    r = client.get(URL.format(5))
    assert r.status_code == 200
    _, tl = open_bundle(r.data, area_ready["root_pub"], clock.t)
    assert tl.area == 5 and tl.serial == 1 and tl.keys == []  # no key made yet in area 5


def test_unknown_area(client, area_ready):
    r = client.get(URL.format(19))
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_area"
    assert client.get("/api/v1/areas/x/trustlist").status_code == 404
    assert client.post(URL.format(1)).status_code == 405


def test_no_signer_503(client):
    r = client.get(URL.format(1))
    assert r.status_code == 503 and r.get_json()["error"] == "no_signer"


def test_signer_keycert_expired_503(app, client, clock):
    import_signer(app, make_pki(not_before=T0 - DAY, not_after=T0 + DAY))
    assert client.get(URL.format(1)).status_code == 200
    clock.advance(DAY)
    assert client.get(URL.format(1)).status_code == 503


def test_expiry_capped_by_keycert(app, client, clock):
    pki = make_pki(not_before=T0 - DAY, not_after=T0 + 3 * DAY)
    import_signer(app, pki)
    _, tl = open_bundle(client.get(URL.format(1)).data, pki.root_pub, clock.t)
    assert tl.expires == T0 + 3 * DAY


def test_new_signer_bumps_serial(app, client, area_ready, clock):
    clock.advance(60)
    pki2 = make_pki()
    import_signer(app, pki2)
    r = client.get(URL.format(1))
    kc, tl = open_bundle(r.data, pki2.root_pub, clock.t)
    assert kc.pub == pki2.signer_pub and tl.serial == area_ready["serial"] + 1


def test_revoked_certificates_listed_sorted_and_pruned(app, client, auth, area_ready, clock):
    ctis = []
    for days in (1, 20):
        r = client.post("/api/v1/admin/areas/1/certificates",
                        json={"category": 5, "valid_for": days * DAY}, headers=auth)
        ctis.append(bytes.fromhex(r.get_json()["cti"]))
        rr = client.post("/api/v1/admin/revocations", json={"cti": ctis[-1].hex()}, headers=auth)
        assert rr.status_code == 201
    _, tl = open_bundle(client.get(URL.format(1)).data, area_ready["root_pub"], clock.t)
    assert tl.revoked == sorted(revocation_hash(c) for c in ctis)
    clock.advance(DAY + 1)  # the first certificate has expired: no need to list it
    _, tl = open_bundle(client.get(URL.format(1)).data, area_ready["root_pub"], clock.t)
    assert tl.revoked == [revocation_hash(ctis[1])]


def test_concurrent_refresh_single_serial(app, area_ready, clock):
    """Two refreshes for the same change give one new serial, never two lists with one."""
    with app.app_context():
        with db.begin() as conn:
            db.set_area(conn, 1, policy={**db.DEFAULT_POLICY, "min_doses": 1})
        a = trustlists.refresh(1)
        b = trustlists.refresh(1)
    assert a["serial"] == b["serial"] == area_ready["serial"] + 1


@pytest.mark.parametrize("header", ["*", '"a", *'])
def test_if_none_match_star(client, area_ready, header):
    assert client.get(URL.format(1), headers={"If-None-Match": header}).status_code == 304
