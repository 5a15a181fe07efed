"""Door unit <-> server, end to end: a real server (gunicorn on 127.0.0.1, SQLite file,
bootstrapped with `gerbang keys` and the server CLI) and a real virtual board at the ESP32's heap,
provisioned with `gerbang provision --arch x64` (x86 for the 32-bit interpreter: every test runs
on both, conftest `interp`), driven by the scanner emulator.

The unit syncs on its own (sync_interval_s): the app's hook marks RTC memory and resets, the
sync boot sends the records after the cursor, verifies the signed answer, acks, sets the time,
stages a newer list; the boot after it installs the list. Checked against the server's export
and device row and the unit's own flash."""

from __future__ import annotations

import json
import os
import struct
import time

import pytest

from gerbang_dev.bench.sync import sync_once
from gerbang_dev.demo import Lab

from .conftest import RUN_HEAP, read_log_records

INTERVAL = 6  # s between syncs (the server's rate limit for empty syncs is 5 s)


def _cursor(image: str) -> int:
    """The scan log's acknowledged cursor on the unit's flash (state slot with the higher
    counter, docs/SCANLOG.md)."""
    from littlefs import LittleFS

    with open(image, "rb") as f:
        data = f.read()
    fs = LittleFS(block_size=4096, block_count=512, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    best = (0, 0)
    for i in (0, 1):
        try:
            with fs.open(f"log/state.{i}", "rb") as f:
                st = f.read()
        except FileNotFoundError:
            continue
        counter, cursor, _dropped = struct.unpack_from("<III", st)
        best = max(best, (counter, cursor))
    return best[1]


def _flash_file(image: str, path: str) -> bytes | None:
    """A file on the unit's flash (littlefs image), None when there is none."""
    from littlefs import LittleFS

    with open(image, "rb") as f:
        data = f.read()
    fs = LittleFS(block_size=4096, block_count=512, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    try:
        with fs.open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _pulse_ms(unit, qr: str) -> float:  # type: ignore[no-untyped-def]
    """Scan an allowed code; the relay's on time in ms (the virtual board's pin events)."""
    n = len(unit.ev.items)
    assert unit.scan(qr)["allow"]
    off = unit.ev.wait(lambda e: e["ev"] == "pin" and e["pin"] == "relay" and e["v"] == 0, 40)
    assert off is not None, unit.console()
    on = [e for e in unit.ev.items[n:] if e["ev"] == "pin" and e["pin"] == "relay"]
    assert [e["v"] for e in on] == [1, 0], on
    return (on[1]["us"] - on[0]["us"]) / 1000


def _last_counter(lab: Lab, device: str) -> int:
    """The device's last accepted request counter (not in the admin JSON: read the table)."""
    import sqlite3

    with sqlite3.connect(lab.db) as c:
        return c.execute("SELECT last_counter FROM devices WHERE id = ?", (device,)).fetchone()[0]


@pytest.fixture
def lab(tmp_path, interp):
    with Lab(str(tmp_path), heap=RUN_HEAP, sync_interval_s=INTERVAL, interp=interp) as lab:
        lab.start_server()
        yield lab


@pytest.fixture
def lab_manual(tmp_path, interp):
    """Syncs only when the test asks (Unit.sync_now: the hook's marker + a reset), as often as
    it asks (no rate limit for empty syncs)."""
    with Lab(str(tmp_path), heap=RUN_HEAP, sync_interval_s=3600, interp=interp) as lab:
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        yield lab


def test_scans_sync_exactly_once_and_a_revocation_comes_back(lab):
    area = 3
    certs = [lab.issue(area) for _ in range(4)]
    expired = lab.issue(area, valid_for=1)
    unit = lab.add_unit("gb-03-0001", area)
    # the unit boots with the list the server had at provisioning; scans are decided at once
    d = [unit.scan(c["qr"]) for c in certs[:3]]
    assert all(e["allow"] and e["reason"] == 0 for e in d), d
    assert unit.scan(expired["qr"])["reason"] == 11  # EXPIRED
    assert unit.scan("GB1:NOT-A-CERTIFICATE")["allow"] is False
    seqs = [e["seq"] for e in unit.ev.items if e["ev"] == "decision"]
    assert seqs == [1, 2, 3, 4, 5]

    # 1. the app's own hook: after the interval, the sync boot brings the records home
    s1 = unit.wait("sync", INTERVAL + 30)
    assert s1["ok"] and s1["requests"] == 1 and s1["sent"] == 5 and s1["acked"] == 5, s1
    assert s1["bundle"] == 0 and s1["fails"] == 0
    unit.wait("start", 30)  # the sync boot reset: the scan path is back
    recs = lab.export(unit.id)
    assert sorted(r["seq"] for r in recs) == [1, 2, 3, 4, 5]  # every record exactly once
    assert [r["decision"] for r in sorted(recs, key=lambda r: r["seq"])] == [1, 1, 1, 0, 0]
    assert sorted(recs, key=lambda r: r["seq"])[3]["reason"] == 11
    dev = lab.api("GET", f"/admin/devices/{unit.id}")
    assert dev["acked_seq"] == 5 and _last_counter(lab, unit.id) == 1, dev
    assert dev["firmware"] == "0.1.0" and sorted(dev["health"]) == ["1", "2", "3", "4", "5"]
    # the server's records are the unit's records, byte for byte (same fields)
    flash = {struct.unpack_from("<I", r)[0]: r for r in
             read_log_records(os.path.join(unit.vb.dir, "flash.img"))}
    for r in recs:
        raw = flash.get(r["seq"])
        if raw is not None:  # acknowledged segments may already be deleted
            assert struct.unpack_from("<I", raw, 4)[0] == r["time"]
            assert raw[8] == r["decision"] and raw[9] == r["reason"]
            assert raw[12:20].hex() == r["kid"] and raw[20:28].hex() == r["tag"]
    assert _cursor(os.path.join(unit.vb.dir, "flash.img")) == 5  # the unit's cursor moved

    # 2. nothing new: the next sync sends nothing and the server still has each record once
    s2 = unit.wait("sync", INTERVAL + 30)
    assert s2["ok"] and s2["sent"] == 0 and s2["acked"] == 5, s2
    unit.wait("start", 30)
    assert len(lab.export(unit.id)) == 5
    assert _last_counter(lab, unit.id) == 2

    # 3. the server revokes a certificate the unit allowed: the next sync brings the list,
    # the boot after it installs it (and resets once), and the certificate is REVOKED
    serial = lab.api("GET", f"/admin/devices/{unit.id}")["trust_serial"]
    lab.revoke(certs[0]["cti"])
    d = unit.scan(certs[3]["qr"])  # a scan between syncs: seq 6
    assert d["allow"] and d["seq"] == 6
    s3 = unit.wait("sync", INTERVAL + 30)
    assert s3["ok"] and s3["sent"] == 1 and s3["acked"] == 6 and s3["bundle"] > 0, s3
    trust = unit.wait("trust", 60, serial=serial + 1)
    assert not trust["error"]
    unit.wait("start", 30)
    d = unit.scan(certs[0]["qr"])
    assert not d["allow"] and d["reason"] == 13, d  # REVOKED
    assert unit.scan(certs[1]["qr"])["allow"]  # the others still pass
    s4 = unit.wait("sync", INTERVAL + 30)
    assert s4["ok"] and s4["sent"] == 2 and s4["acked"] == 8 and s4["bundle"] == 0, s4
    recs = lab.export(unit.id)
    assert sorted(r["seq"] for r in recs) == list(range(1, 9))
    assert lab.api("GET", f"/admin/devices/{unit.id}")["trust_serial"] == serial + 1
    assert not [e for e in unit.ev.items if e["ev"] == "error"]


def test_server_down_keeps_records_backs_off_and_catches_up(lab_manual):
    lab = lab_manual
    area = 7
    cert = lab.issue(area)
    unit = lab.add_unit("gb-07-0001", area)
    assert unit.scan(cert["qr"])["allow"]
    lab.proc.terminate()  # the server goes away
    lab.proc.wait(15)
    s1 = unit.sync_now()
    assert not s1["ok"] and s1["fails"] == 1 and s1["acked"] == 0, s1
    assert s1["took_ms"] < 8000  # bounded: the door is back to scanning within seconds
    assert unit.scan(cert["qr"])["allow"]  # scanning goes on; seq 2 stored
    lab.serve()
    s2 = unit.sync_now()
    assert s2["ok"] and s2["sent"] == 2 and s2["acked"] == 2 and s2["fails"] == 0, s2
    assert sorted(r["seq"] for r in lab.export(unit.id)) == [1, 2]
    # the failed attempt never reached the server: its counter was skipped, never reused
    assert _last_counter(lab, unit.id) == 2


def test_server_config_reaches_the_unit_and_what_it_refuses_the_door_would_too(lab_manual):
    """The device-config contract end to end (gerbang_protocol.device_config): every value the
    admin API accepts, at both ends of every range, is applied by the door (nothing ignored);
    every value the door would ignore is refused by the API with the key and its range."""
    from gerbang_protocol import device_config

    lab = lab_manual
    area = 5
    cert = lab.issue(area)
    unit = lab.add_unit("gb-05-0001", area)  # provisioned with relay_ms 200
    image = os.path.join(unit.vb.dir, "flash.img")
    assert 190 <= _pulse_ms(unit, cert["qr"]) <= 400
    # 1. relay_ms 600 and the door's own key sync_interval_s: accepted, applied, none ignored
    lab.api("PATCH", f"/admin/devices/{unit.id}",
            {"config": {"relay_ms": 600, "sync_interval_s": 3600}})
    s1 = unit.sync_now()
    assert s1["ok"] and s1["cfg"] == 1 and s1["cfg_bad"] == 0, s1
    assert json.loads(_flash_file(image, "config.over.json")) == {"relay_ms": 600,
                                                                  "sync_interval_s": 3600}
    assert 590 <= _pulse_ms(unit, cert["qr"]) <= 800  # after the reset: the server's value
    # 2. the same config again: nothing written (flash wear), the value stays
    s2 = unit.sync_now()
    assert s2["ok"] and s2["cfg"] == 0 and s2["cfg_bad"] == 0, (s2.get("err"), s2)
    # 3. both ends of every range: the API takes them, the door applies every one
    for end in ("hi", "lo"):
        cfg = {k.name: getattr(k, end) for k in device_config.KEYS}
        if end == "lo":  # the door would sync every 60 s: keep the hour for the test
            cfg["sync_interval_s"] = 3600
        lab.api("PATCH", f"/admin/devices/{unit.id}", {"config": cfg})
        s = unit.sync_now()
        assert s["ok"] and s["cfg"] == 1 and s["cfg_bad"] == 0, (end, s.get("err"), s)
        assert json.loads(_flash_file(image, "config.over.json")) == cfg
    # 4. every value just outside a range, an old name and an unknown key: refused, nothing
    # stored (the unit's override stays what the last sync gave)
    bad = [{k.name: v} for k in device_config.KEYS for v in (k.lo - 1, k.hi + 1)]
    bad += [{"sync_interval": 600}, {"relay": 600}]
    for c in bad:
        with pytest.raises(RuntimeError, match=": 400 .*bad_config") as e:
            lab.api("PATCH", f"/admin/devices/{unit.id}", {"config": c})
        assert next(iter(c)) in str(e.value)
    assert lab.api("GET", f"/admin/devices/{unit.id}")["config"] == cfg
    # 5. no config: the override goes and the provisioned values are back
    lab.api("PATCH", f"/admin/devices/{unit.id}", {"config": None})
    s3 = unit.sync_now()
    assert s3["ok"] and s3["cfg"] == 1 and s3["cfg_bad"] == 0, (s3.get("err"), s3)
    assert _flash_file(image, "config.over.json") is None
    assert 190 <= _pulse_ms(unit, cert["qr"]) <= 400
    assert not [e for e in unit.ev.items if e["ev"] == "error"]


def _pins_of(unit, qr: str) -> tuple[dict, dict[str, list[int]]]:  # type: ignore[no-untyped-def]
    """Scan; the decision and each output's changes until the pattern is over."""
    n = len(unit.ev.items)
    d = unit.scan(qr)
    time.sleep(2.0)  # led_ms 1500: every pattern is over
    unit.ev.poll()
    pins: dict[str, list[int]] = {}
    for e in unit.ev.items[n:]:
        if e["ev"] == "pin":
            pins.setdefault(e["pin"], []).append(e["v"])
    return d, pins


def test_a_certificate_of_another_area_is_wrong_area_with_its_own_signal(lab_manual):
    """A valid area-5 certificate at an area-1 door: WRONG_AREA (12) with its own signal
    (amber: red and green, one short beep, no relay), not the unknown signer's three beeps:
    the door's list names area 5's kids (PROTOCOL.md §4 label 9). A key area 5 makes later is
    learnt at the door's next sync: a key change re-signs every area's list."""
    lab = lab_manual
    own = lab.issue(1)
    other = lab.issue(5)  # the server's jobs gave every area its first key at start
    unit = lab.add_unit("gb-01-0001", 1)
    serial = [e for e in unit.ev.items if e["ev"] == "trust"][-1]["serial"]  # as provisioned
    d, pins = _pins_of(unit, other["qr"])
    assert not d["allow"] and d["reason"] == 12, d  # WRONG_AREA
    assert pins.get("red") == [1, 0] and pins.get("green") == [1, 0], pins
    assert pins.get("buzzer") == [1, 0] and 1 not in pins.get("relay", []), pins
    assert unit.scan(own["qr"])["allow"]  # its own area's certificate still opens the door
    # area 5 rotates now: its new key is unknown to this door until it syncs
    lab.api("POST", "/admin/areas/5/keys/rotate")
    newer = lab.issue(5)
    assert newer["kid"] != other["kid"]
    d, pins = _pins_of(unit, newer["qr"])
    assert not d["allow"] and d["reason"] == 6, d  # UNKNOWN_KID: red, three short beeps
    # (the green LED and relay of the allow before are switched off: 0, never on)
    assert pins.get("buzzer") == [1, 0] * 3 and 1 not in pins.get("green", []), pins
    assert 1 not in pins.get("relay", []), pins
    s = unit.sync_now()
    assert s["ok"] and s["bundle"] > 0, s
    # the boot after the sync boot installed it (sync_now waited for that boot's start)
    trust = [e for e in unit.ev.items if e["ev"] == "trust"][-1]
    assert trust["serial"] > serial and trust["error"] is None, trust
    d, pins = _pins_of(unit, newer["qr"])
    assert not d["allow"] and d["reason"] == 12, d  # now WRONG_AREA, with its own signal
    assert pins.get("green") == [1, 0] and pins.get("buzzer") == [1, 0], pins
    assert 1 not in pins.get("relay", []), pins
    assert unit.sync_now()["ok"]
    recs = sorted(lab.export(unit.id), key=lambda r: r["seq"])
    assert [(r["decision"], r["reason"]) for r in recs] == [(0, 12), (1, 0), (0, 6), (0, 12)]
    assert recs[0]["kid"] == other["kid"] and recs[3]["kid"] == newer["kid"]  # who signed it
    assert not [e for e in unit.ev.items if e["ev"] == "error"]


# Free heap the sync boot leaves at its peak at the ESP32's 112K, per interpreter
# (docs/FIRMWARE_CORE.md "Two interpreters"; `make bench` sync part measures it): it must
# sync in 112K minus this, with a trust bundle named in the answer and fetched.
SYNC_MARGIN_KIB = {"unix64": 4, "unix32": 16}


def test_sync_boot_keeps_its_heap_margin(lab_manual, interp):
    lab = lab_manual
    area = 2
    certs = [lab.issue(area) for _ in range(2)]
    unit = lab.add_unit("gb-02-0001", area)
    serial = [e for e in unit.ev.items if e["ev"] == "trust"][-1]["serial"]
    lab.revoke(certs[1]["cti"])  # the answer names the new list; the unit fetches it
    assert unit.scan(certs[0]["qr"])["allow"]
    heap = 112 - SYNC_MARGIN_KIB[interp.name]
    s = sync_once(unit, f"{heap}K")
    assert s and s["ok"] and s["sent"] == 1 and s["bundle"] > 0, (heap, s, unit.console())
    # installed by the boot after it (sync_once waited for its start)
    trust = [e for e in unit.ev.items if e["ev"] == "trust"][-1]
    assert trust["serial"] == serial + 1 and not trust["error"], trust
    assert unit.scan(certs[1]["qr"])["reason"] == 13  # REVOKED: the list came through
