"""Sync under network and server faults, end to end: a real server (gunicorn, SQLite file), a
fault-injecting proxy (gerbang_dev/faultproxy.py) on 127.0.0.1 between it and virtual door
units at the ESP32's heap (provisioned with `gerbang provision`, their own sync boot).

Every fault is one test, and each checks the same five properties afterwards:
- no record lost or stored twice (server export = seqs 1..n, each once, byte-for-byte fields);
- the unit's cursor never moves without a verified ack (flash state after the fault);
- its trust list never goes back (every `trust` event's serial, and the cache on flash);
- its request counter is never reused (every counter through the proxy strictly increasing,
  the server's last accepted counter = the last one sent);
- it scans again right after (a scan decided after the fault's sync boot), and the next good
  sync catches up (everything acked, the cursor at the end).
"""

from __future__ import annotations

import os
import struct

import pytest

from gerbang_dev.demo import Lab, Unit
from gerbang_dev.faultproxy import FaultProxy

from .conftest import RUN_HEAP
from .test_sync_e2e import _cursor, _flash_file, _last_counter

REVOKED = 13  # gerbang_protocol.errors.Reason.REVOKED


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # sync only when a test asks (Unit.sync_now); no rate limit in the way of back-to-back syncs
    with Lab(str(tmp_path_factory.mktemp("faults")), heap=RUN_HEAP, sync_interval_s=3600) as lab:
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        yield lab


@pytest.fixture
def proxy(lab):
    with FaultProxy(lab.url, signer=lab.signer_key(), delay=8.0) as p:
        yield p


def _image(unit: Unit) -> str:
    return os.path.join(unit.vb.dir, "flash.img")


def _held_serial(unit: Unit) -> int:
    """Serial of the list the unit holds, from its cache header on flash (gerbang.trustcache)."""
    h = _flash_file(_image(unit), "trust.bin.cache")
    assert h is not None and h[:4] == b"GBC1"
    return struct.unpack_from("<I", h, 108)[0]


class Field:
    """One unit behind the proxy, and the checks every fault test ends with."""

    def __init__(self, lab: Lab, proxy: FaultProxy, device_id: str, area: int) -> None:
        self.lab = lab
        self.proxy = proxy
        # certs 0 and 2 alternate (the unit debounces a code repeated at once); 1 gets revoked
        self.certs = [lab.issue(area) for _ in range(3)]
        self.unit = lab.add_unit(device_id, area, server=proxy.url)
        self.scans = 0

    def scan(self) -> dict:
        d = self.unit.scan(self.certs[2 * (self.scans % 2)]["qr"])
        self.scans += 1
        assert d["allow"] and d["seq"] == self.scans, d
        return d

    def good_sync(self) -> dict:
        self.proxy.mode = "pass"
        s = self.unit.sync_now()
        assert s["ok"] and s["acked"] == self.scans and s["fails"] == 0, s
        return s

    def fault(self, mode: str) -> dict:
        """A sync boot through the fault; then the unit must be deciding scans again."""
        self.proxy.mode = mode
        s = self.unit.sync_now()
        self.proxy.mode = "pass"
        self.scan()  # the unit is back at the door: this scan is decided
        return s

    def check(self, cursor_before: int | None = None) -> None:
        """The properties after the fault, then a good sync and the catch-up."""
        unit = self.unit
        if cursor_before is not None:  # no verified ack in the fault: the cursor stayed
            assert _cursor(_image(unit)) == cursor_before
        s = self.good_sync()
        assert _cursor(_image(unit)) == self.scans
        recs = self.lab.export(unit.id)
        assert sorted(r["seq"] for r in recs) == list(range(1, self.scans + 1)), recs
        decided = {e["seq"]: e for e in unit.ev.items if e["ev"] == "decision"}
        assert {r["seq"]: (r["decision"], r["reason"]) for r in recs} == \
            {q: (int(e["allow"]), e["reason"]) for q, e in decided.items()}  # what the door did
        counters = self.proxy.counters(unit.id)
        assert counters == sorted(set(counters)), counters  # strictly increasing: never reused
        assert _last_counter(self.lab, unit.id) == counters[-1]
        serials = [e["serial"] for e in unit.ev.items if e["ev"] == "trust"]
        assert serials == sorted(serials), serials  # the list never went back
        assert _held_serial(unit) == serials[-1]
        dev = self.lab.api("GET", f"/admin/devices/{unit.id}")
        assert dev["acked_seq"] == self.scans and dev["max_seq"] == self.scans and not dev["gaps"]
        assert not [e for e in unit.ev.items if e["ev"] == "error"]
        self.last_sync = s

    def stop(self) -> None:
        self.unit.stop()


@pytest.fixture
def field(lab, proxy, request):
    made: list[Field] = []

    def make(area: int) -> Field:
        f = Field(lab, proxy, f"gb-{area:02d}-{len(lab.units) + 1:04d}", area)
        made.append(f)
        f.scan()
        f.scan()
        f.good_sync()  # seqs 1-2 home; the proxy keeps this answer (the replay test's)
        f.scan()  # seq 3: waits for the next sync
        return f

    yield make
    for f in made:
        f.stop()


def test_server_slower_than_the_unit_waits(field, proxy):
    # the server stores seq 3 and accepts the counter, the answer comes after the unit gave up
    f = field(1)
    s = f.fault("slow")
    assert not s["ok"] and s["requests"] == 1, s
    assert proxy.requests[-1].status == 200  # the server did take it
    assert f.lab.api("GET", f"/admin/devices/{f.unit.id}")["acked_seq"] == 3
    f.check(cursor_before=2)  # seq 3 is sent again with seq 4 and stored once


def test_server_error_500(field):
    f = field(2)
    s = f.fault("status500")
    assert not s["ok"] and "500" in s["err"] and s["fails"] == 1, s
    f.check(cursor_before=2)


def test_server_busy_503_with_retry_after(field):
    f = field(3)
    s = f.fault("status503")
    assert not s["ok"] and "503" in s["err"] and s["fails"] == 1, s
    # the unit backs off (its sync interval doubles with the failure count in sync.ctr)
    ctr = _flash_file(_image(f.unit), "sync.ctr")
    assert ctr is not None and struct.unpack_from("<II", ctr)[1] == 1
    f.check(cursor_before=2)


def test_connection_cut_after_the_request(field, proxy):
    f = field(4)
    s = f.fault("cut_after_request")
    assert not s["ok"] and s["requests"] == 1, s
    assert proxy.requests[-1].status == 200  # committed on the server, never acked on the unit
    f.check(cursor_before=2)


def test_connection_cut_mid_answer_naming_a_bundle(field, lab):
    f = field(5)
    held = _held_serial(f.unit)
    lab.revoke(f.certs[1]["cti"])  # the answer names a new list: cut, nothing is fetched
    s = f.fault("cut_mid_answer")
    assert not s["ok"] and s["bundle"] == 0, s
    assert _held_serial(f.unit) == held
    assert _flash_file(_image(f.unit), "trust.bin.new") is None  # nothing half-staged
    f.check(cursor_before=2)
    assert f.last_sync["bundle"] > 0  # the good sync brought the list after all (installed
    # by the boot after the sync boot, before the scan path was back)
    assert f.unit.scan(f.certs[1]["qr"])["reason"] == REVOKED
    f.scans += 1


def test_bundle_download_cut_midway(field, lab, proxy):
    # the answer is good (records acked, time set); the GET of the list it names is cut: the
    # part is never staged, the held list stays, and the next good sync fetches it again
    f = field(11)
    held = _held_serial(f.unit)
    lab.revoke(f.certs[1]["cti"])
    s = f.fault("cut_bundle_download")
    assert s["ok"] and s["bundle"] == 0 and s.get("bundle_err"), s
    assert proxy.fetches and "?serial=" in proxy.fetches[-1]
    assert _held_serial(f.unit) == held
    assert _flash_file(_image(f.unit), "trust.bin.new") is None
    assert _flash_file(_image(f.unit), "trust.bin.new.tmp") is None  # the part is gone
    assert f.unit.scan(f.certs[1]["qr"])["allow"]  # still the old list
    f.scans += 1
    f.check()
    assert f.last_sync["bundle"] > 0 and _held_serial(f.unit) == held + 1
    assert f.unit.scan(f.certs[1]["qr"])["reason"] == REVOKED
    f.scans += 1


def test_answer_from_another_server_forged_signature(field):
    # re-signed with another key and claiming every record acked: refused, nothing moves
    f = field(6)
    s = f.fault("forged")
    assert not s["ok"] and "signature" in s["err"], s
    f.check(cursor_before=2)


def test_replayed_earlier_answer(field):
    f = field(7)
    s = f.fault("replay")
    assert not s["ok"] and "nonce" in s["err"], s
    f.check(cursor_before=2)


def test_answer_for_another_device(field):
    # signed by the real signer, our nonce, another device's id: refused
    f = field(8)
    s = f.fault("other_device")
    assert not s["ok"] and "another device" in s["err"], s
    f.check(cursor_before=2)


def test_trust_list_older_than_the_units(field, lab, proxy):
    # a server restored from an old backup: a genuinely signed, older list
    f = field(9)
    old = lab.bundle(9)
    lab.revoke(f.certs[1]["cti"])
    f.good_sync()  # the newer list comes and is installed at the next boot
    held = _held_serial(f.unit)
    proxy.old_bundle = old
    s = f.fault("old_list")
    assert s["ok"] and s["bundle"] == len(old), s  # a verified answer: its ack is real
    assert _held_serial(f.unit) == held  # the install refused the older list
    d = f.unit.scan(f.certs[1]["qr"])
    assert not d["allow"] and d["reason"] == REVOKED, d
    f.scans += 1
    f.check()


def test_truncated_bundle(field, lab, proxy):
    # a good signature over a bundle cut in half: staged, refused by the install, and the next
    # good sync brings the list again
    f = field(10)
    held = _held_serial(f.unit)
    lab.revoke(f.certs[1]["cti"])
    proxy.bundle = lab.bundle(10)  # the new list: the proxy names and serves it cut in half
    s = f.fault("truncated_bundle")
    assert s["ok"] and s["bundle"] > 0, s
    assert _held_serial(f.unit) == held
    assert _flash_file(_image(f.unit), "trust.bin.new") is None  # the refused one is gone
    assert f.unit.scan(f.certs[1]["qr"])["allow"]  # still the old list
    f.scans += 1
    f.check()
    assert f.last_sync["bundle"] > 0
    assert _held_serial(f.unit) == held + 1
    assert f.unit.scan(f.certs[1]["qr"])["reason"] == REVOKED
    f.scans += 1
