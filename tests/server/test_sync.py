"""POST /api/v1/sync (docs/SYNC.md): every accepted and every refused request, on SQLite and on
the real PostgreSQL (the ``app`` fixture of conftest.py is parametrized over both)."""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2
import pytest
from sqlalchemy import func, select, update

from gerbang_protocol import (
    BundleRef,
    ScanRecord,
    SyncRequest,
    make_sync_request,
    new_private_key,
    open_sync_response,
    public_key_bytes,
)
from gerbang_protocol import cbor as pcbor
from gerbang_protocol.cose import sig_structure, sign1

COSE = "application/cose"
URL = "/api/v1/sync"


def records(first: int, last: int, salt: int = 0) -> bytes:
    """Records first..last (inclusive); ``salt`` changes their content, not their seqs."""
    out = bytearray()
    for seq in range(first, last + 1):
        out += ScanRecord(seq, 1_780_000_000 + seq + salt, seq % 2, 0 if seq % 2 else 14,
                          seq % 3, 0, bytes([seq % 251]) * 8, (seq + salt).to_bytes(8, "big")).pack()
    return bytes(out)


class Door:
    """A simulated door unit: signs sync requests with its own key and counter."""

    def __init__(self, client: Any, clock: Any, priv: Any, device_id: str) -> None:
        self.client, self.clock, self.priv, self.id = client, clock, priv, device_id
        self.counter = 0

    def body(self, first: int = 0, recs: bytes = b"", *, counter: int | None = None,
             trust_serial: int = 0, device_id: str | None = None, key: Any = None,
             nonce: bytes = b"N" * 16) -> bytes:
        if counter is None:
            self.counter += 1
            counter = self.counter
        req = SyncRequest(device_id or self.id, counter, nonce, self.clock.t - 3, first, recs,
                          trust_serial, "0.1.0", {1: 90000, 2: 1500000, 3: 0, 4: 3600, 5: 0})
        return make_sync_request(key or self.priv, req)

    def post(self, body: bytes, content_type: str | None = COSE, wait: int = 10) -> Any:
        self.clock.advance(wait)  # past the rate limit's minimum interval unless told otherwise
        headers = {} if content_type is None else {"Content-Type": content_type}
        return self.client.post(URL, data=body, headers=headers)

    def sync(self, first: int = 0, recs: bytes = b"", **kw: Any) -> Any:
        self.clock.advance(10)
        return self.post(self.body(first, recs, **kw), wait=0)


@pytest.fixture
def door(client, clock, area_ready, register_device) -> Door:
    priv, _ = register_device("door-1")
    return Door(client, clock, priv, "door-1")


def ok(resp: Any, area_ready: dict[str, Any]) -> Any:
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == COSE
    return open_sync_response(resp.data, area_ready["pki"].signer_pub)


def refused(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    body = resp.get_json()
    assert body["error"] == code, body
    assert body["message"]
    return body


def stored(app: Any, device_id: str = "door-1") -> dict[int, tuple]:
    from gerbang_server import db

    s = db.scan_records.c
    with app.app_context(), db.begin() as conn:
        rows = conn.execute(select(s.seq, s.time, s.decision, s.reason, s.clock, s.flags,
                                   s.kid, s.tag, s.area_id).where(s.device_id == device_id))
        out: dict[int, tuple] = {}
        for r in rows:
            assert r.seq not in out
            out[r.seq] = tuple(r)
        return out


def device_row(app: Any, device_id: str = "door-1") -> dict[str, Any]:
    from gerbang_server import db

    with app.app_context(), db.begin() as conn:
        return db.get_device(conn, device_id)


def expect_rows(app: Any, first: int, last: int, salt: int = 0, device_id: str = "door-1") -> None:
    rows = stored(app, device_id)
    want = {}
    for i in range(first, last + 1):
        r = ScanRecord.unpack(records(i, i, salt))
        want[i] = (i, r.time, r.decision, r.reason, r.clock, r.flags, r.kid, r.tag, 1)
    assert rows == want


# --- accepted requests ----------------------------------------------------------------------

def test_sync_stores_records_and_answers_signed(app, door, area_ready, clock, client, auth):
    r = ok(door.sync(1, records(1, 10), nonce=b"\x07" * 16), area_ready)
    assert r.device_id == "door-1"
    assert r.acked_seq == 10
    assert r.server_time == clock.t
    assert r.nonce == b"\x07" * 16
    assert r.keycert == area_ready["keycert"]
    # the door held serial 0: the answer names the current bundle, which the door fetches
    assert r.bundle == BundleRef.of(area_ready["serial"], area_ready["bundle"])
    got = client.get(f"/api/v1/areas/1/trustlist?serial={r.bundle.serial}")
    assert got.status_code == 200 and hashlib.sha256(got.data).digest() == r.bundle.sha256
    assert r.config is None
    expect_rows(app, 1, 10)
    dev = client.get("/api/v1/admin/devices/door-1", headers=auth).get_json()
    assert dev["acked_seq"] == 10 and dev["max_seq"] == 10 and dev["gaps"] == []
    assert dev["last_sync_at"] == clock.t
    assert dev["health"] == {"1": 90000, "2": 1500000, "3": 0, "4": 3600, "5": 0}
    assert dev["firmware"] == "0.1.0"
    row = device_row(app)
    assert row["last_counter"] == 1 and row["last_device_time"] == clock.t - 3


def test_empty_sync_acks_nothing_and_updates_health(app, door, area_ready):
    r = ok(door.sync(), area_ready)
    assert r.acked_seq == 0
    assert stored(app) == {}
    assert device_row(app)["last_sync_at"] is not None


def test_bundle_only_when_server_serial_is_higher(door, area_ready):
    serial = area_ready["serial"]
    assert ok(door.sync(trust_serial=serial), area_ready).bundle is None
    assert ok(door.sync(trust_serial=serial + 5), area_ready).bundle is None
    ref = ok(door.sync(trust_serial=serial - 1), area_ready).bundle
    assert ref == BundleRef.of(serial, area_ready["bundle"]) and ref.size == len(area_ready["bundle"])


def test_trustlist_by_serial_serves_that_list_or_says_why_not(client, area_ready):
    serial = area_ready["serial"]
    r = client.get(f"/api/v1/areas/1/trustlist?serial={serial}")
    assert r.status_code == 200 and r.data == area_ready["bundle"]
    for bad, code in (("x", 400), ("-1", 400), ("1" * 11, 400), ("\u00b2", 400),
                      (str(serial + 1), 404)):
        r = client.get(f"/api/v1/areas/1/trustlist?serial={bad}")
        assert r.status_code == code and r.get_json()["error"] in ("bad_field", "unknown_serial"), bad


def test_config_from_the_device_row(door, area_ready, client, auth):
    cfg = {"sync_interval_s": 600, "relay_ms": 800, "scan_debounce_ms": 1500}
    r = client.patch("/api/v1/admin/devices/door-1", json={"config": cfg}, headers=auth)
    assert r.status_code == 200, r.get_json()
    assert ok(door.sync(), area_ready).config == {1: 600, 2: 800, 3: 1500}


def test_repeated_batch_adds_nothing(app, door, area_ready):
    assert ok(door.sync(1, records(1, 50)), area_ready).acked_seq == 50
    # the same records again (new counter, e.g. the ack was lost), even with other content
    assert ok(door.sync(1, records(1, 50, salt=7)), area_ready).acked_seq == 50
    expect_rows(app, 1, 50)  # first write wins, nothing duplicated


def test_overlapping_batch_stores_only_the_new_part(app, door, area_ready):
    assert ok(door.sync(1, records(1, 30)), area_ready).acked_seq == 30
    assert ok(door.sync(21, records(21, 60)), area_ready).acked_seq == 60
    expect_rows(app, 1, 60)
    assert device_row(app)["max_seq"] == 60


def test_gap_is_recorded_and_ack_stays_below_it(app, door, area_ready, client, auth):
    assert ok(door.sync(1, records(1, 10)), area_ready).acked_seq == 10
    assert ok(door.sync(31, records(31, 40)), area_ready).acked_seq == 10
    assert ok(door.sync(21, records(21, 25)), area_ready).acked_seq == 10
    dev = client.get("/api/v1/admin/devices/door-1", headers=auth).get_json()
    assert dev["gaps"] == [[11, 20], [26, 30]]
    assert dev["acked_seq"] == 10 and dev["max_seq"] == 40
    # filling the first gap runs the watermark over records that came early
    assert ok(door.sync(11, records(11, 20)), area_ready).acked_seq == 25
    assert device_row(app)["gaps"] == [[26, 30]]
    assert ok(door.sync(26, records(26, 30)), area_ready).acked_seq == 40
    dev = client.get("/api/v1/admin/devices/door-1", headers=auth).get_json()
    assert dev["gaps"] == [] and dev["acked_seq"] == 40
    expect_rows(app, 1, 40)


def test_gap_at_the_start(app, door, area_ready):
    assert ok(door.sync(5, records(5, 9)), area_ready).acked_seq == 0
    assert device_row(app)["gaps"] == [[1, 4]]
    assert ok(door.sync(1, records(1, 6)), area_ready).acked_seq == 9
    expect_rows(app, 1, 9)


def test_a_full_batch_of_500(app, door, area_ready):
    assert ok(door.sync(1, records(1, 500)), area_ready).acked_seq == 500
    assert ok(door.sync(501, records(501, 1000)), area_ready).acked_seq == 1000
    assert len(stored(app)) == 1000


def sign_as_kid(priv: Any, payload: bytes, kid: bytes) -> bytes:
    """A COSE_Sign1 by ``priv`` that names ``kid`` (how two colliding keys look on the wire)."""
    protected = pcbor.dumps({1: -8, 4: kid})
    signature = priv.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def payload_of(body: bytes) -> bytes:
    return cbor2.loads(body).value[2]


def test_kid_collision_two_devices(app, client, clock, area_ready, register_device):
    """Two registered devices whose keys share a kid: each request is tried under both keys
    and lands on the device whose key verifies."""
    from gerbang_server import db

    priv_a, a = register_device("door-a")
    priv_b, _ = register_device("door-b")
    kid = bytes.fromhex(a["kid"])
    with app.app_context(), db.begin() as conn:  # door-b's kid collides with door-a's
        conn.execute(update(db.devices).where(db.devices.c.id == "door-b").values(kid=kid))
    door_a = Door(client, clock, priv_a, "door-a")
    door_b = Door(client, clock, priv_b, "door-b")
    assert ok(door_a.sync(1, records(1, 3)), area_ready).acked_seq == 3
    body_b = sign_as_kid(priv_b, payload_of(door_b.body(1, records(1, 4))), kid)
    assert ok(door_b.post(body_b), area_ready).acked_seq == 4
    assert sorted(stored(app, "door-a")) == [1, 2, 3]
    assert sorted(stored(app, "door-b")) == [1, 2, 3, 4]
    # a third key naming that kid verifies under neither
    forged = sign_as_kid(new_private_key(), payload_of(door_a.body(4, records(4, 5))), kid)
    refused(door_a.post(forged), 401, "bad_signature")
    # door-b's key, payload claiming door-a: verified as door-b, so refused
    body = sign_as_kid(priv_b, payload_of(door_b.body(4, records(4, 5), device_id="door-a")),
                       kid)
    refused(door_b.post(body), 403, "device_mismatch")
    assert sorted(stored(app, "door-a")) == [1, 2, 3]


# --- refused requests: nothing stored, counter not consumed ---------------------------------

def assert_untouched(app: Any, door: Door, area_ready: dict[str, Any]) -> None:
    """Nothing stored, and the next counter still works (the refused one was not claimed)."""
    assert stored(app) == {}
    row = device_row(app)
    assert row["acked_seq"] == 0 and row["last_sync_at"] is None
    door.counter = row["last_counter"]
    assert ok(door.sync(1, records(1, 2)), area_ready).acked_seq == 2


def test_empty_body(app, door, area_ready):
    refused(door.post(b""), 400, "empty_body")
    assert_untouched(app, door, area_ready)


@pytest.mark.parametrize("body", [b"\xff\x00garbage", b"\x18", cbor2.dumps({"a": 1}),
                                  cbor2.dumps([1, 2, 3, 4]), b"\xd2\x84" + b"\x40" * 3])
def test_not_a_cose_sign1(app, door, area_ready, body):
    refused(door.post(body), 400, "malformed")
    assert_untouched(app, door, area_ready)


def test_wrong_tag(app, door, area_ready):
    msg = cbor2.loads(door.body(1, records(1, 3)))
    refused(door.post(cbor2.dumps(cbor2.CBORTag(17, msg.value))), 400, "malformed")
    refused(door.post(cbor2.dumps(msg.value)), 400, "malformed")  # untagged
    assert_untouched(app, door, area_ready)


def test_trailing_bytes_and_unprotected_header(app, door, area_ready):
    body = door.body(1, records(1, 3))
    refused(door.post(body + b"\x00"), 400, "malformed")
    parts = list(cbor2.loads(body).value)
    parts[1] = {4: b"k" * 8}
    refused(door.post(cbor2.dumps(cbor2.CBORTag(18, parts))), 400, "malformed")
    assert_untouched(app, door, area_ready)


def test_bad_signature(app, door, area_ready):
    body = bytearray(door.body(1, records(1, 3)))
    body[-1] ^= 1
    refused(door.post(bytes(body)), 401, "bad_signature")
    body = bytearray(door.body(1, records(1, 3)))
    body[40] ^= 1  # inside the signed payload
    assert door.post(bytes(body)).status_code in (400, 401)
    assert_untouched(app, door, area_ready)


def test_unknown_kid(app, door, area_ready):
    refused(door.post(door.body(1, records(1, 3), key=new_private_key())), 401, "unknown_key")
    assert_untouched(app, door, area_ready)


def test_retired_device(app, door, area_ready, client, auth):
    assert ok(door.sync(1, records(1, 3)), area_ready).acked_seq == 3
    assert client.post("/api/v1/admin/devices/door-1/retire", headers=auth).status_code == 200
    refused(door.sync(4, records(4, 6)), 403, "device_retired")
    assert sorted(stored(app)) == [1, 2, 3]


def test_payload_device_id_mismatch(app, door, area_ready, register_device):
    register_device("door-2")
    refused(door.sync(1, records(1, 3), device_id="door-2"), 403, "device_mismatch")
    refused(door.sync(1, records(1, 3), device_id="nobody"), 403, "device_mismatch")
    assert stored(app, "door-2") == {}
    assert_untouched(app, door, area_ready)


def test_replayed_request(app, door, area_ready):
    body = door.body(1, records(1, 5))
    assert ok(door.post(body), area_ready).acked_seq == 5
    before = device_row(app)
    refused(door.post(body), 409, "replay")
    after = device_row(app)
    assert after["last_sync_at"] == before["last_sync_at"]
    assert after["last_counter"] == before["last_counter"]


def test_counter_going_backwards(app, door, area_ready):
    assert ok(door.sync(1, records(1, 5), counter=10), area_ready).acked_seq == 5
    refused(door.sync(6, records(6, 9), counter=9), 409, "replay")
    refused(door.sync(6, records(6, 9), counter=10), 409, "replay")
    assert sorted(stored(app)) == [1, 2, 3, 4, 5]
    assert ok(door.sync(6, records(6, 9), counter=11), area_ready).acked_seq == 9


def test_bad_record_crc(app, door, area_ready):
    recs = bytearray(records(1, 5))
    recs[32 * 2 + 5] ^= 0x40  # record 3's time, CRC left as it was
    body = refused(door.sync(1, bytes(recs)), 400, "bad_record")
    assert "CRC" in body["message"]
    assert_untouched(app, door, area_ready)


def test_partial_record(app, door, area_ready):
    refused(door.sync(1, records(1, 3)[:-1]), 400, "bad_record")
    assert_untouched(app, door, area_ready)


def test_non_consecutive_seqs(app, door, area_ready):
    recs = records(1, 3) + records(5, 6)
    refused(door.sync(1, recs), 400, "bad_seq")
    refused(door.sync(2, records(1, 3)), 400, "bad_seq")  # first_seq does not match
    refused(door.sync(0, records(1, 3)), 400, "bad_seq")  # first_seq 0 with records
    assert_untouched(app, door, area_ready)


def test_more_than_500_records(app, door, area_ready):
    refused(door.sync(1, records(1, 501)), 413, "too_many_records")
    assert_untouched(app, door, area_ready)


def test_oversize_body(app, door, area_ready):
    refused(door.post(b"\xd2" + b"\x00" * (64 * 1024)), 413, "too_large")
    assert_untouched(app, door, area_ready)


@pytest.mark.parametrize("ctype", [None, "application/json", "application/cbor", "text/plain"])
def test_wrong_content_type(app, door, area_ready, ctype):
    refused(door.post(door.body(1, records(1, 3)), content_type=ctype), 415,
            "unsupported_media_type")
    assert_untouched(app, door, area_ready)


def _signed_payload(door: Door, payload: Any) -> bytes:
    return sign1(door.priv, pcbor.dumps(payload))


def _good_payload(door: Door, **changes: Any) -> dict[int, Any]:
    door.counter += 1
    m: dict[int, Any] = {1: door.id, 2: door.counter, 3: b"N" * 16, 4: door.clock.t, 5: 1,
                         6: records(1, 2), 7: 0, 8: "0.1.0", 9: {1: 5}}
    for k, v in changes.items():
        label = int(k[1:])
        if v is None:
            m.pop(label)
        else:
            m[label] = v
    return m


@pytest.mark.parametrize("changes", [
    {"f1": None}, {"f2": None}, {"f3": None}, {"f6": None},
    {"f1": 7}, {"f1": "x" * 33}, {"f2": -1}, {"f2": "1"}, {"f3": b"N" * 15}, {"f4": True},
    {"f6": "records"}, {"f7": -2}, {"f8": "v" * 33}, {"f9": {1: -5}}, {"f9": [1]},
])
def test_malformed_payload_fields(app, door, area_ready, changes):
    body = _signed_payload(door, _good_payload(door, **changes))
    refused(door.post(body), 400, "bad_payload")
    assert_untouched(app, door, area_ready)


def test_payload_not_a_map(app, door, area_ready):
    refused(door.post(_signed_payload(door, [1, 2])), 400, "bad_payload")
    refused(door.post(sign1(door.priv, b"\xff")), 400, "bad_payload")
    assert_untouched(app, door, area_ready)


def test_get_is_not_allowed(client, door):
    refused(client.get(URL), 405, "method_not_allowed")


def test_no_signer_stores_nothing(app, client, clock, register_device):
    """Without a signer the response cannot be signed: refused, nothing written."""
    priv, _ = register_device("door-1")
    door = Door(client, clock, priv, "door-1")
    refused(door.sync(1, records(1, 5)), 503, "no_signer")
    assert stored(app) == {}
    row = device_row(app)
    assert row["last_counter"] == 0 and row["acked_seq"] == 0


# --- rate limit -----------------------------------------------------------------------------

def test_rate_limit(app, door, area_ready):
    assert ok(door.sync(1, records(1, 5)), area_ready).acked_seq == 5
    resp = door.post(door.body(), wait=1)  # nothing new, 1 s later
    refused(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) == 4
    refused(door.post(door.body(1, records(1, 5)), wait=0), 429, "rate_limited")  # repeat
    # a batch that advances the log (backlog drain) is never held back
    assert ok(door.post(door.body(6, records(6, 500)), wait=0), area_ready).acked_seq == 500
    assert ok(door.post(door.body(501, records(501, 510)), wait=0), area_ready).acked_seq == 510
    refused(door.post(door.body(), wait=4), 429, "rate_limited")
    assert ok(door.post(door.body(), wait=1), area_ready).acked_seq == 510
    # a 429 consumed no counter and stored nothing
    assert len(stored(app)) == 510


def test_rate_limit_off(database, clock, pki):
    """GERBANG_SYNC_MIN_INTERVAL=0 turns the limit off (the benchmark and load tests)."""
    from gerbang_server import auth, db
    from tests.server.conftest import import_signer, make_test_app

    app = make_test_app(database, clock, GERBANG_SYNC_MIN_INTERVAL=0)
    try:
        import_signer(app, pki)
        with app.app_context(), db.begin() as conn:
            token = auth.create_token(conn, "t", clock.t)
        client = app.test_client()
        priv = new_private_key()
        r = client.post("/api/v1/admin/devices", headers={"Authorization": f"Bearer {token}"},
                        json={"id": "door-1", "area": 1,
                              "public_key": public_key_bytes(priv).hex()})
        assert r.status_code == 201
        door = Door(client, clock, priv, "door-1")
        for _ in range(3):
            assert door.post(door.body(), wait=0).status_code == 200
    finally:
        app.extensions["gerbang_engine"].dispose()


def test_counts_per_device_are_separate(app, client, clock, area_ready, register_device):
    doors = []
    for i in range(3):
        priv, _ = register_device(f"door-{i}")
        doors.append(Door(client, clock, priv, f"door-{i}"))
    for i, d in enumerate(doors):
        assert ok(d.sync(1, records(1, 10 * (i + 1))), area_ready).acked_seq == 10 * (i + 1)
    from gerbang_server import db

    with app.app_context(), db.begin() as conn:
        n = conn.execute(select(func.count()).select_from(db.scan_records)).scalar_one()
    assert n == 60


def test_failure_after_the_insert_rolls_everything_back(app, door, area_ready, monkeypatch):
    """Nothing half-stored: an error after the records were inserted (here: writing the
    device row fails) rolls back the records and the counter with them."""
    from gerbang_server import sync_db

    def broken(*args: Any, **kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync_db, "finish", broken)
    refused(door.sync(1, records(1, 5)), 500, "internal")
    monkeypatch.undo()
    assert_untouched(app, door, area_ready)


# --- the server's record check agrees with the reference decoder ------------------------------

def _corpus() -> tuple[list[bytes], bytes]:
    import dataclasses
    import random

    from gerbang_server.sync import MAX_RECORDS

    priv, other = new_private_key(), new_private_key()
    base = SyncRequest("door-1", 5, b"N" * 16, 100, 1, records(1, 20), 3, "fw", {1: 2, 4: 9})
    reqs = [base, dataclasses.replace(base, first_seq=0, records=b""),
            dataclasses.replace(base, first_seq=7, records=records(7, 7 + MAX_RECORDS - 1)),
            dataclasses.replace(base, records=records(1, 3)[:-1]),
            dataclasses.replace(base, records=records(1, 2) + records(4, 5)),
            dataclasses.replace(base, first_seq=2),
            dataclasses.replace(base, first_seq=0),
            dataclasses.replace(base, records=records(1, MAX_RECORDS + 1)),
            dataclasses.replace(base, records=records(1, 2) + ScanRecord(3, 1, 2, 0).pack()),
            dataclasses.replace(base, records=records(1, 2) + ScanRecord(3, 1, 1, 0, 3).pack()),
            dataclasses.replace(base, records=records(1, 4)[:36] + b"\xee" + records(1, 4)[37:])]
    bodies = [make_sync_request(priv, r) for r in reqs]
    bodies.append(make_sync_request(other, base))
    good = base.to_cbor()
    for label in range(1, 10):
        m = dict(good)
        m.pop(label)
        bodies.append(sign1(priv, pcbor.dumps(m)))
        for bad in (-1, "x" * 40, b"\x00" * 17, 2**64, [1], {1: -1}, True, None, 1.5):
            bodies.append(sign1(priv, pcbor.dumps({**good, label: bad})))
    bodies += [sign1(priv, pcbor.dumps([1])), sign1(priv, b"\xa1\x01"),
               sign1(priv, pcbor.dumps(good) + b"\x00"), b"", b"\xd2", cbor2.dumps(1)]
    rnd = random.Random(6)
    valid = bodies[0]
    for _ in range(300):
        b = bytearray(valid)
        for _ in range(rnd.randint(1, 3)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        bodies.append(bytes(b))
    return bodies, public_key_bytes(priv)


def test_open_sync_request_refuses_each_malformed_request_with_its_reason():
    from gerbang_protocol import ProtocolError, keys_by_kid, open_sync_request

    bodies, pub = _corpus()
    lookup = keys_by_kid([pub])

    def outcome(fn: Any, body: bytes) -> tuple:
        try:
            return ("ok",) + fn(body, lookup)
        except ProtocolError as e:
            return ("refused", e.reason, e.message)

    seen = set()
    for body in bodies:
        want = outcome(open_sync_request, body)
        seen.add(want[0] if want[0] == "ok" else want[2])
    # accepted, and refused for CBOR, COSE, kid, signature, field and every record reason
    expected = {"ok", "record CRC does not match", "record decision or clock", "records are whole",
                "no trusted key with kid", "signature does not verify", "first_seq is 0 but",
                "record 2 has seq 4, not 3"}
    missing = [e for e in expected if not any(m.startswith(e) for m in seen)]
    assert not missing, missing
    assert len(seen) >= 20
