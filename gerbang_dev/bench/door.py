"""Scan-to-relay latency on the virtual board, driven by the scanner emulator.

Latency = host time of the code's last byte written (the emulator) to the relay-on event's
time stamp (board, same host clock). 200 scans of the golden valid certificates (alternated so
the debounce and the reuse window do not interfere). The emulator writes at pty speed; the time
the real line needs for the same bytes is shown separately (10 bits a byte) at the rate the
unit actually runs at (the start event's "baud": 115200 after the driver's switch, 9600 if the
module did not follow) and at the factory 9600 for comparison, so latency on a unit = UART time
+ measured figure (+ the ESP32's slower CPU, see the crypto part). The emulator models the
line rate (the board's uart_baud file): a unit talking at the wrong rate gets no scans at all.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from binascii import unhexlify

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 200


def run() -> None:
    from gerbang_dev.scanner_emulator import ScannerEmulator
    from gerbang_dev.virtual_board import VirtualBoard, create

    with open(os.path.join(ROOT, "tests", "vectors", "golden.json")) as f:
        g = json.load(f)
    with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
        cfg = json.load(f)
    heap = os.environ.get("GERBANG_BENCH_HEAP", "112K")
    cfg.update(area=g["area"], root_pub=g["root_pub"], relay_ms=50, scan_debounce_ms=0)
    codes = [c["qr"] for c in g["certificates"] if c["allow"] and c["clock_quality"] == 0]
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "board")
        create(d, cfg, unhexlify(g["bundle"]))
        vb = VirtualBoard(d, heap=heap, time_unix=g["now"], synced=True)
        paths = vb.start()
        em = ScannerEmulator(paths["scanner"], line=os.path.join(d, "uart_baud"))
        ev_path = os.path.join(d, "events.jsonl")
        try:
            if not vb.wait_event(lambda e: e["ev"] == "start", 30):
                print("  virtual board did not start")
                return
            start = [e for e in vb.events() if e["ev"] == "start"][-1]
            baud = start.get("baud", 9600)
            pos = os.path.getsize(ev_path)
            lat = []
            for i in range(N):
                code = codes[i % len(codes)]
                time.sleep(0.06)  # relay pulse over
                em.send_code(code)
                t_sent = time.time_ns()  # the last byte is in the pty
                on = None
                end = time.time() + 5
                while on is None and time.time() < end:
                    with open(ev_path) as f:
                        f.seek(pos)
                        data = f.read()
                    for line in data.splitlines():
                        if '"relay"' in line and '"v": 1' in line:
                            on = json.loads(line)
                    if on is None:
                        time.sleep(0.0005)
                pos = os.path.getsize(ev_path)
                if on is None:
                    print(f"  scan {i}: no relay pulse")
                    continue
                lat.append((on["ns"] - t_sent) / 1e6 if "ns" in on else float("nan"))
        finally:
            em.close()
            vb.stop()
    if not lat:
        print(f"  no scans decided (line at {baud} baud)")
        return
    lat.sort()
    med = statistics.median(lat)
    p95 = lat[int(len(lat) * 0.95) - 1]
    qlen = len(codes[0]) + 1
    print(f"  heap {heap}, {len(lat)} scans: scan-to-relay median {med:.1f} ms, p95 {p95:.1f} ms "
          f"(virtual board, after the last byte)")
    print(f"  + UART at {baud} baud (the rate in use) for a {qlen}-byte frame: "
          f"{qlen * 10 / baud * 1000:.1f} ms (at the factory 9600: "
          f"{qlen * 10 / 9600 * 1000:.1f} ms)")
