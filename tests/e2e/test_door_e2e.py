"""End to end on the virtual board: scanner emulator -> UART pty -> firmware -> GPIO events and
the scan log on the littlefs image. Golden certificates; garbage, split and duplicated frames;
2,000 scans with the heap measured after each (gc.collect) by the board itself. Every test runs
on both interpreters (conftest `interp`: 64-bit port, 32-bit ESP32-word-size build)."""

from __future__ import annotations

import os
import statistics
import struct
import time
import zlib

from gerbang_dev.scanner_emulator import ScannerEmulator

from .conftest import ESP32_HEAP, Events, console, make_board, read_log_records


def _cert(g: dict, name: str) -> dict:
    return next(c for c in g["certificates"] if c["name"] == name)


def _scan(ev: Events, em, qr: str, timeout: float = 10.0, **kw) -> tuple[dict | None, list]:
    start = len(ev.items)
    em.send_code(qr, **kw)
    d = ev.wait(lambda e: e["ev"] in ("decision", "error"), timeout)
    time.sleep(0.05)
    ev.poll()
    return d, ev.items[start:]


def _pins(items: list, name: str) -> list[int]:
    return [e["v"] for e in items if e["ev"] == "pin" and e["pin"] == name]


def test_valid_certificate_relay_pulse_and_allow_record(board):
    vb, em, g = board
    ev = Events(vb)
    valid = _cert(g, "valid")
    d, items = _scan(ev, em, valid["qr"])
    assert d and d["ev"] == "decision" and d["allow"] and d["reason"] == 0, (d, console(vb))
    assert d["clock"] == 0 and d["seq"] >= 1
    ev.wait(lambda e: e["ev"] == "pin" and e["pin"] == "relay" and e["v"] == 0, 3)
    on = [e for e in ev.items if e["ev"] == "pin" and e["pin"] == "relay"]
    assert [e["v"] for e in on[-2:]] == [1, 0]
    pulse_ms = (on[-1]["us"] - on[-2]["us"]) / 1000
    assert 190 <= pulse_ms <= 400, pulse_ms  # relay_ms = 200 in the board's config
    assert 1 in _pins(items, "green") and 1 not in _pins(items, "red")
    seq = d["seq"]
    vb.stop()
    recs = read_log_records(os.path.join(vb.dir, "flash.img"))
    rec = next(r for r in recs if struct.unpack_from("<I", r)[0] == seq)
    assert zlib.crc32(rec[:28]) == struct.unpack_from("<I", rec, 28)[0]
    assert rec[8] == 1 and rec[9] == 0 and rec[10] == 0  # allow, OK, clock synced
    assert rec[12:20].hex() == valid["kid"] and rec[20:28].hex() == valid["subject_tag"]
    assert abs(struct.unpack_from("<I", rec, 4)[0] - g["now"]) < 120


def test_every_golden_invalid_certificate_denied_with_its_reason(board):
    vb, em, g = board
    ev = Events(vb)
    seen = 0
    for c in g["certificates"]:
        if c["allow"] or not c["qr"]:
            continue
        d, items = _scan(ev, em, c["qr"])
        assert d and d["ev"] == "decision", (c["name"], d, console(vb))
        assert not d["allow"] and d["reason"] == c["reason"], (c["name"], d)
        assert 1 not in _pins(items, "relay"), c["name"]
        assert 1 in _pins(items, "red") and 1 in _pins(items, "buzzer"), c["name"]
        seen += 1
    assert seen >= 20


def test_garbage_split_duplicate_frames_no_crash_no_false_allow(board):
    vb, em, g = board
    ev = Events(vb)
    restarts = vb.restarts  # the first boot resets once after building the trust cache
    valid = _cert(g, "valid")["qr"]
    expired = _cert(g, "expired")["qr"]
    em.send_garbage(3000)  # random bytes, far longer than a code, then "\r"
    em.send(b"\x02\x00\x00\x01\x00\x33\x31")  # a stray ACK frame
    time.sleep(0.3)
    d, _ = _scan(ev, em, valid, split=6, delay=0.01)  # split within the char timeout: joined
    assert d and d["allow"], (d, console(vb))
    d, _ = _scan(ev, em, expired, duplicate=3)  # the module repeating a code: decided once
    assert d and d["reason"] == 11
    time.sleep(0.5)
    ev.poll()
    assert [e for e in ev.items if e["ev"] == "decision"][-1] is d
    # a code split with a long gap is two fragments: neither may open the door
    em.send_code(_cert(g, "valid_recovery")["qr"], split=2, delay=0.4)
    time.sleep(0.6)
    for _ in range(5):
        em.send_code(valid, corrupt=3)  # line noise inside the code
        time.sleep(0.1)
    time.sleep(0.5)
    new = [e for e in ev.poll() if e["ev"] == "decision"]
    ev_all = [e for e in ev.items if e["ev"] == "decision"]
    assert not any(e["allow"] for e in ev_all[2:]), ev_all
    assert not [e for e in ev.items if e["ev"] == "error"]
    d, _ = _scan(ev, em, _cert(g, "valid_listed_areas")["qr"])  # still alive and right
    assert d and d["allow"], (new, console(vb))
    assert vb.proc is not None and vb.proc.poll() is None and vb.restarts == restarts


def test_2000_scans_leave_the_heap_where_it_started(board):
    vb, em, g = board
    ev = Events(vb)
    codes = [c["qr"] for c in g["certificates"] if c["qr"]]
    heap = []
    allows = 0
    t0 = time.time()
    for i in range(2000):
        em.send_code(codes[i % len(codes)])
        h = ev.wait(lambda e: e["ev"] == "heap", 10)
        assert h, (i, console(vb))
        heap.append(h["mem_alloc"])
    decisions = [e for e in ev.items if e["ev"] == "decision"]
    allows = sum(1 for e in decisions if e["allow"])
    assert len(decisions) == 2000 and allows > 0
    assert not [e for e in ev.items if e["ev"] == "error"]
    first = statistics.median(heap[20:120])
    last = statistics.median(heap[-100:])
    print(f"2000 scans in {time.time() - t0:.1f}s, heap after gc: {first} -> {last} bytes")
    assert last - first <= 512, (first, last)


def test_boots_and_decides_in_esp32_heap(tmp_path, interp):
    """The ESP32's 112 KiB heap: the unit must boot and allow a valid certificate."""
    vb, em, g = make_board(tmp_path, heap=ESP32_HEAP, interp=interp)
    try:
        ev = Events(vb)
        started = ev.wait(lambda e: e["ev"] == "start", 30)
        assert started, console(vb)
        d, _ = _scan(ev, em, _cert(g, "valid")["qr"])
        assert d and d["allow"], (d, console(vb))
    finally:
        em.close()
        vb.stop()


def _rate_board(tmp_path, interp, **em_kw):
    """A board whose emulator models the line rate (garbles while the board's UART rate
    differs from the module's)."""
    vb, em, g = make_board(tmp_path, heap=ESP32_HEAP, interp=interp)
    em.close()  # replaced before the firmware's first command (boot takes seconds)
    em = ScannerEmulator(vb.paths["scanner"], line=os.path.join(vb.dir, "uart_baud"), **em_kw)
    return vb, em, g


def test_door_switches_the_scanner_to_115200_and_decides(tmp_path, interp):
    vb, em, g = _rate_board(tmp_path, interp)
    try:
        ev = Events(vb)
        started = ev.wait(lambda e: e["ev"] == "start", 60)
        assert started, console(vb)
        time.sleep(0.3)
        starts = [e for e in ev.items if e["ev"] == "start"]
        assert starts[-1]["baud"] == 115200 and starts[-1]["scanner_failed"] == 0, starts
        assert em.rate == 115200
        with open(os.path.join(vb.dir, "uart_baud")) as f:
            assert f.read().strip() == "115200"
        d, _ = _scan(ev, em, _cert(g, "valid")["qr"])
        assert d and d["allow"], (d, console(vb))
    finally:
        em.close()
        vb.stop()


def test_door_keeps_9600_when_the_module_does_not_switch(tmp_path, interp):
    vb, em, g = _rate_board(tmp_path, interp, switches=False)
    try:
        ev = Events(vb)
        started = ev.wait(lambda e: e["ev"] == "start", 60)
        assert started, console(vb)
        time.sleep(0.3)
        starts = [e for e in ev.items if e["ev"] == "start"]
        assert starts[-1]["baud"] == 9600 and starts[-1]["scanner_failed"] == 1, starts
        assert em.rate == 9600 and em.garbled > 0  # it did try 115200
        d, _ = _scan(ev, em, _cert(g, "valid")["qr"])
        assert d and d["allow"], (d, console(vb))
    finally:
        em.close()
        vb.stop()
