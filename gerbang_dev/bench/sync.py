"""Heap of the sync boot (`python -m gerbang_dev.bench sync`), on each interpreter.

One virtual door unit (gerbang_dev.demo.Lab: real server on gunicorn, `gerbang provision`)
syncs as the app's hook asks (RTC marker + reset: the sync boot, docs/FIRMWARE.md "Sync"),
sending one scan record and verifying the server's signed answer. Figures: the `sync` event's
free heap after the sync at 112K, and the smallest `-X heapsize` in which the sync boot still
succeeds (binary search over whole KiB; fragmentation included): 112K minus it is the free
heap at the sync boot's peak. Target: >= SYNC_MARGIN_KIB free at the peak on the 32-bit
interpreter (the ESP32's word size)."""

from __future__ import annotations

import os
import tempfile
import time

from gerbang_dev.interpreters import ALL, Interpreter

ESP32_HEAP_KIB = 112
SYNC_MARGIN_KIB = 16  # free at the sync boot's peak, 32-bit interpreter (issue #14)


def sync_once(unit, heap: str = "112K", timeout: float = 60.0) -> dict | None:  # type: ignore[no-untyped-def]
    """Unit.sync_now with the sync boot in `heap` (the boots after it in 112K), but None (not
    an exception) when no sync event comes (the boot died)."""
    with open(os.path.join(unit.vb.dir, "rtc.bin"), "rb") as f:
        rtc = f.read()
    with open(os.path.join(unit.vb.dir, "rtc.bin"), "wb") as f:
        f.write(rtc[:12] + b"S")
    old = unit.vb.proc
    unit.vb.heap = heap
    old.terminate()  # the launcher boots it again, RTC memory kept
    end = time.time() + timeout
    while unit.vb.proc is old and time.time() < end:
        time.sleep(0.002)
    unit.vb.heap = f"{ESP32_HEAP_KIB}K"  # the sync boot's own reset: the scan path as deployed
    s = unit.ev.wait(lambda e: e["ev"] == "sync", timeout)
    if s is not None:
        unit.ev.wait(lambda e: e["ev"] == "start", timeout)
    return s


def smallest_sync_heap(unit, qr: str, lo: int = 72,  # type: ignore[no-untyped-def]
                       hi: int = ESP32_HEAP_KIB) -> int | None:
    """Smallest heap (KiB) in which the unit's sync boot succeeds; None: not even at hi.
    A scan (qr) before each sync: the server rate-limits empty syncs (5 s)."""
    def ok(k: int) -> bool:
        unit.scan(qr)
        s = sync_once(unit, f"{k}K", timeout=20)
        return bool(s and s["ok"])

    if not ok(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def figures(interp: Interpreter) -> dict[str, object]:
    from gerbang_dev.demo import Lab

    with tempfile.TemporaryDirectory() as tmp, Lab(tmp, interp=interp) as lab:
        lab.start_server()
        cert = lab.issue(1)
        unit = lab.add_unit("gb-01-0001", 1)
        unit.scan(cert["qr"])
        s = sync_once(unit)
        low = smallest_sync_heap(unit, cert["qr"])
        return {"event": s, "low": low}


def run() -> None:
    for interp in ALL:
        why = interp.missing()
        if why:
            print(f"  [{interp.name}] skipped: {why}")
            continue
        f = figures(interp)
        s, low = f["event"], f["low"]
        if not isinstance(s, dict) or not s.get("ok"):
            print(f"  [{interp.name}] sync boot at {ESP32_HEAP_KIB}K failed: {s} (FAIL)")
            continue
        peak = ESP32_HEAP_KIB - low if isinstance(low, int) else None
        print(f"  [{interp.name}] sync boot at {ESP32_HEAP_KIB}K: ok, heap used by stage "
              f"{s['heap']} B, free after the sync {s['mem_free']} B")
        line = (f"  [{interp.name}] smallest heap for the sync boot: {low} KiB; free heap at its "
                f"peak at {ESP32_HEAP_KIB}K: {peak} KiB")
        if interp.word_bits == 32:
            line += (f" (target >= {SYNC_MARGIN_KIB} KiB: "
                     f"{'PASS' if peak is not None and peak >= SYNC_MARGIN_KIB else 'FAIL'})")
        print(line)


if __name__ == "__main__":
    run()
