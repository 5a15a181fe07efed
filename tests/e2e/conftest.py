"""Helpers for the door-unit end-to-end tests: a real virtual board (MicroPython unix port on
ptys) driven by the real scanner emulator, with the golden certificates. Tests that take the
`interp` fixture run on each interpreter of gerbang_dev/interpreters.py (the 64-bit port and
the 32-bit build with the ESP32's word size; skipped with the reason when it is absent)."""

from __future__ import annotations

import json
import os
from binascii import unhexlify

import pytest

from gerbang_dev.interpreters import ALL, UNIX64, Interpreter
from gerbang_dev.scanner_emulator import ScannerEmulator
from gerbang_dev.virtual_board import EventLog, VirtualBoard, create

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "vectors", "golden.json")
# The ESP32's heap: every functional test runs in it (GERBANG_E2E_HEAP overrides, e.g. to see
# whether a failure is about memory at all).
ESP32_HEAP = "112K"
RUN_HEAP = os.environ.get("GERBANG_E2E_HEAP", ESP32_HEAP)


def golden() -> dict:
    with open(GOLDEN) as f:
        return json.load(f)


@pytest.fixture(params=ALL, ids=[i.name for i in ALL])
def interp(request: pytest.FixtureRequest) -> Interpreter:
    why = request.param.missing()
    if why:
        pytest.skip(why)
    return request.param


def make_board(tmp_path, heap: str = RUN_HEAP, synced: bool = True, relay_ms: int = 200,
               interp: Interpreter = UNIX64,
               **cfg_extra) -> tuple[VirtualBoard, ScannerEmulator, dict]:
    g = golden()
    with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
        cfg = json.load(f)
    cfg.update(area=g["area"], root_pub=g["root_pub"], relay_ms=relay_ms, idle_ms=20,
               scan_debounce_ms=300, **cfg_extra)
    d = str(tmp_path / "board")
    create(d, cfg, unhexlify(g["bundle"]), interp=interp)
    vb = VirtualBoard(d, heap=heap, time_unix=g["now"], synced=synced,
                      log=str(tmp_path / "console.log"), interp=interp)
    paths = vb.start()
    # the emulator models the line rate: bytes garble while the unit and module disagree
    em = ScannerEmulator(paths["scanner"], line=os.path.join(d, "uart_baud"))
    return vb, em, g


def console(vb: VirtualBoard) -> str:
    p = os.path.join(os.path.dirname(vb.dir), "console.log")
    if not os.path.exists(p):
        return ""
    with open(p, "rb") as f:
        return f.read()[-3000:].decode(errors="replace")


@pytest.fixture
def board(tmp_path, interp: Interpreter):
    vb, em, g = make_board(tmp_path, interp=interp)
    started = vb.wait_event(lambda e: e["ev"] == "start", 30)
    assert started, console(vb)
    yield vb, em, g
    em.close()
    vb.stop()


class Events(EventLog):
    """The events.jsonl of a running virtual board."""

    def __init__(self, vb: VirtualBoard) -> None:
        super().__init__(os.path.join(vb.dir, "events.jsonl"))


def read_log_records(image: str) -> list[bytes]:
    """Every 32-byte scan-log record in a board's flash image (littlefs-python)."""
    from littlefs import LittleFS

    with open(image, "rb") as f:
        data = f.read()
    fs = LittleFS(block_size=4096, block_count=512, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    recs = []
    for name in sorted(fs.listdir("log")):
        if not name.endswith(".log"):
            continue
        with fs.open("log/" + name, "rb") as f:
            blob = f.read()
        recs += [blob[i:i + 32] for i in range(0, len(blob) - 31, 32)]
    return recs
