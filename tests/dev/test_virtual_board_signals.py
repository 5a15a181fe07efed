"""`gerbang virtual-board run` stopped with SIGTERM (or SIGHUP) stops its MicroPython process
too: no orphan keeps the ptys and the flash image busy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_interpreter_too(tmp_path, sig) -> None:
    from gerbang_dev.virtual_board import create

    with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
        cfg = json.load(f)
    d = str(tmp_path / "board")
    create(d, cfg, None, mpy=False)
    p = subprocess.Popen([sys.executable, "-m", "gerbang_cli.cli", "virtual-board", "run", d,
                          "--source"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()  # the pty paths: the interpreter is running
        assert json.loads(first)["repl"].startswith("/dev/")
        kids = [k for k in _children(p.pid) if _alive(k)]
        assert kids, "no MicroPython child"
        p.send_signal(sig)
        assert p.wait(timeout=30) == 0, p.stderr.read()
        deadline = time.monotonic() + 10
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [k for k in kids if _alive(k)], "MicroPython outlived the launcher"
        assert "Traceback" not in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
