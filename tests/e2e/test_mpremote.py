"""The real mpremote against a running virtual board, as a technician uses a real one."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import console

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def _mp(repl: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([MPREMOTE, "connect", repl, *args], capture_output=True, text=True,
                          timeout=timeout)


def test_mpremote_exec_ls_cp_on_virtual_board(board, tmp_path):
    vb, em, g = board
    repl = vb.paths["repl"]
    # exec: interrupts main.py (Ctrl-C), soft-resets in raw REPL, runs the code
    r = _mp(repl, "exec", "import sys; print('plat', sys.platform, 6 * 7)")
    assert r.returncode == 0 and "plat linux 42" in r.stdout, (r.stdout, r.stderr, console(vb))
    r = _mp(repl, "fs", "ls", ":")
    assert r.returncode == 0, (r.stdout, r.stderr)
    for name in ("main.py", "config.json", "trust.bin", "gerbang/", "log/"):
        assert name in r.stdout, r.stdout
    src = tmp_path / "hello.txt"
    payload = os.urandom(3000).hex()
    src.write_text(payload)
    r = _mp(repl, "fs", "cp", str(src), ":hello.txt")
    assert r.returncode == 0, (r.stdout, r.stderr)
    back = tmp_path / "back.txt"
    r = _mp(repl, "fs", "cp", ":hello.txt", str(back))
    assert r.returncode == 0 and back.read_text() == payload, (r.stdout, r.stderr)
    r = _mp(repl, "exec", "import os; print(os.stat('/hello.txt')[6], os.getcwd())")
    assert f"{len(payload)} /" in r.stdout, r.stdout
    vb.stop()
    # the copy landed in the flash image, as on a real board
    from littlefs import LittleFS

    with open(os.path.join(vb.dir, "flash.img"), "rb") as f:
        data = f.read()
    fs = LittleFS(block_size=4096, block_count=512, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    with fs.open("hello.txt", "r") as f:
        assert f.read() == payload
