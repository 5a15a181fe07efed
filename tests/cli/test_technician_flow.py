"""The README's technician section, run command by command (acceptance 1 of the CLI issue).

A real server (keys from `gerbang keys`, bootstrapped with its CLI, gunicorn on 127.0.0.1 on a
free port: gerbang_dev.demo.Lab) and a blank virtual board at the ESP32's heap (MicroPython
unix port on ptys, an erased flash). The commands are read from README.md's block and run as
written, with only what a virtual board needs changed: the port is its REPL pty, `--arch x64`
for provision and check, the server address is the test server's, the export's dates are
today's (WIB). The test card's QR is read back from the PNG with zxing-cpp and shown to the
unit through the scanner emulator, as a person holds a card to the scanner.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
HEAP = os.environ.get("GERBANG_E2E_HEAP", "112K")
WIB = timezone(timedelta(hours=7))
README_PORT = "/dev/ttyUSB0"
README_SERVER = "https://gerbang.example.go.id"


def readme_commands() -> list[list[str]]:
    with open(README) as f:
        text = f.read()
    section = text.split("\n## Teknisi:", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    cmds = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [c for c in cmds if c]


def test_the_readme_block_is_the_whole_technician_job() -> None:
    jobs = [" ".join(c[1:3]) for c in readme_commands()]
    assert all(c[0] == "gerbang" for c in readme_commands())
    assert jobs == ["setup --server", "unit add", "unit provision", "unit check",
                    "issue --area", "unit log", "unit sync-now", "fleet", "export --area"]


@pytest.fixture
def lab(tmp_path):
    from gerbang_dev.demo import Lab

    with Lab(str(tmp_path / "lab"), heap=HEAP, sync_interval_s=3600) as lab:
        os.makedirs(lab.base, exist_ok=True)
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        yield lab


@pytest.fixture
def blank_board(tmp_path):
    """A unit fresh from esptool: MicroPython and an erased flash; its RTC was set."""
    from gerbang_dev.scanner_emulator import ScannerEmulator
    from gerbang_dev.virtual_board import EventLog, VirtualBoard, create

    with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
        cfg = json.load(f)
    d = str(tmp_path / "board")
    create(d, cfg, None)
    open(os.path.join(d, "flash.img"), "wb").close()  # erased: the ROM formats it
    vb = VirtualBoard(d, heap=HEAP, time_unix=int(time.time()), synced=True,
                      log=str(tmp_path / "console.log"))
    vb.start()
    em = ScannerEmulator(vb.paths["scanner"], line=os.path.join(d, "uart_baud"))
    ev = EventLog(os.path.join(d, "events.jsonl"))
    try:
        yield vb, em, ev
    finally:
        em.close()
        vb.stop()


def _console(vb) -> str:  # type: ignore[no-untyped-def]
    p = os.path.join(os.path.dirname(vb.dir), "console.log")
    with open(p, "rb") as f:
        return f.read()[-2000:].decode(errors="replace")


def test_technician_flow_from_the_readme(lab, blank_board, tmp_path) -> None:
    import zxingcpp
    from PIL import Image

    vb, em, ev = blank_board
    work = lab.base  # holds keys/root.pub, as the README asks
    env = {k: v for k, v in lab.env.items()
           if k not in ("GERBANG_TOKEN", "GERBANG_SERVER", "GERBANG_ROOT_PUB", "LC_ALL",
                        "LC_MESSAGES", "LANG", "GERBANG_LANG")}
    env["GERBANG_CONFIG"] = os.path.join(str(tmp_path), "home", "gerbang.json")
    today = datetime.now(WIB).date().isoformat()
    port = vb.paths["repl"]
    outputs: dict[str, subprocess.CompletedProcess] = {}

    def run(cmd: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", *cmd[1:]], cwd=work,
                           env=env, input=stdin or "", capture_output=True, text=True,
                           timeout=600, start_new_session=True)
        assert "Traceback" not in r.stdout + r.stderr, r.stderr
        return r

    def started(timeout: float = 90) -> None:
        e = ev.wait(lambda e: e["ev"] == "start", timeout)
        assert e is not None, _console(vb)

    # before the README: a blank unit is reported unhealthy, one line per problem, exit 1
    r = run(["gerbang", "unit", "check", "--port", port, "--arch", "x64"])
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert [ln.split(":")[0] for ln in lines[:-1]] == ["MASALAH", "MASALAH"], lines
    assert "firmware" in lines[0] and "config.json" in lines[1] and "2 masalah" in lines[-1]

    device = None
    for cmd in readme_commands():
        cmd = [{README_PORT: port, README_SERVER: lab.url}.get(a, a) for a in cmd]
        job = " ".join(cmd[1:3])
        if job in ("unit provision", "unit check"):
            cmd += ["--arch", "x64"]
        if cmd[1] == "export":
            cmd = [today if prev in ("--from", "--to") else a
                   for prev, a in zip([""] + cmd[:-1], cmd, strict=True)]
        r = run(cmd, stdin=lab.token + "\n" if cmd[1] == "setup" else None)
        outputs[job] = r
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        if cmd[1] == "setup":
            assert lab.token not in " ".join(cmd)
            mode = stat.S_IMODE(os.stat(env["GERBANG_CONFIG"]).st_mode)
            assert mode == 0o600
            with open(env["GERBANG_CONFIG"]) as f:
                assert json.load(f)["token"] == lab.token
        elif job == "unit add":
            device = cmd[cmd.index("--id") + 1] if "--id" in cmd else "gb-01-0001"
            key = os.path.join(work, "keys", "devices", device + ".key")
            assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
            reg = lab.api("GET", f"/admin/devices/{device}")
            assert reg["area"] == 1
            with open(key[:-4] + ".pub") as f:
                assert reg["public_key"] == f.read().strip()
            with open(os.path.join(work, "units", device, "unit.json")) as f:
                unit_cfg = json.load(f)
            assert unit_cfg["server"] == lab.url and unit_cfg["root_pub"] == lab.root_pub
            # re-runnable: the same command again changes nothing
            again = run(cmd)
            assert again.returncode == 0 and device in again.stdout, again.stderr
        elif job == "unit provision":
            started()  # the unit boots into the firmware
            again = run(cmd)  # re-runnable: nothing to copy
            assert again.returncode == 0, again.stderr
            assert "tidak ada yang disalin" in again.stdout, again.stdout
            started()
        elif job == "unit check":
            assert f"unit {device} sehat" in r.stdout, r.stdout + r.stderr
            assert r.stderr.strip() == "" or "MASALAH" not in r.stderr
            started()
        elif cmd[1] == "issue":
            text = r.stdout.strip().splitlines()[-1]
            assert text.startswith("GB1:")
            card = os.path.join(work, cmd[cmd.index("--out") + 1])
            assert [x.text for x in zxingcpp.read_barcodes(Image.open(card))] == [text]
            n = len(ev.items)
            em.send_code(text)  # the card held to the scanner
            d = ev.wait(lambda e: e["ev"] == "decision", 30)
            assert d is not None and d["allow"], (ev.items[n:], _console(vb))
        elif job == "unit log":
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("#")]
            assert len(lines) == 1 and "IZIN" in lines[0] and " OK " in lines[0], r.stdout
            assert "WIB" in lines[0]
            started()
        elif job == "unit sync-now":
            assert "sinkron berhasil: 1 rekaman terkirim" in r.stdout, r.stdout + r.stderr
            started()
        elif cmd[1] == "fleet":
            row = next(ln for ln in r.stdout.splitlines() if device in ln)
            assert "segar" in row and "BASI" not in row, r.stdout
        elif cmd[1] == "export":
            with open(os.path.join(work, cmd[cmd.index("--out") + 1])) as f:
                rows = list(csv.DictReader(f))
            assert [(x["device_id"], x["decision"], x["reason_name"], x["area"])
                    for x in rows] == [(device, "allow", "OK", "1")], rows
            assert rows[0]["area_name"] and rows[0]["time_wib"].startswith(today)
    assert device is not None and len(outputs) == 9
