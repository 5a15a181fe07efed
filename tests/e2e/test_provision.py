"""`gerbang provision` against a real virtual board over the real mpremote: a blank unit is
provisioned, boots and decides the golden valid certificate; a second run copies nothing; an
interrupted copy (truncated file, leftover temp file) is repaired by re-running; the scan log
survives; bad inputs are refused with exit 2 before anything reaches the unit."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from binascii import unhexlify

import pytest

from gerbang_dev.scanner_emulator import ScannerEmulator
from gerbang_dev.virtual_board import VirtualBoard, create
from gerbang_protocol import load_private_key, public_key_bytes

from .conftest import ROOT, RUN_HEAP, Events, console, golden, read_log_records

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
SEED = bytes(range(32))  # a fixed device seed for the test unit


def _blank_board(tmp_path, g: dict) -> tuple[VirtualBoard, dict]:
    """A unit fresh from esptool: MicroPython and an empty littlefs, no firmware on flash
    (an existing flash.img skips the virtual board's first-boot install)."""
    with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
        cfg = json.load(f)
    cfg.update(area=g["area"], root_pub=g["root_pub"], relay_ms=200, idle_ms=20,
               scan_debounce_ms=300)
    d = str(tmp_path / "board")
    create(d, cfg, None)
    open(os.path.join(d, "flash.img"), "wb").close()  # erased: the ROM formats it
    vb = VirtualBoard(d, heap=RUN_HEAP, time_unix=g["now"], synced=True,
                      log=str(tmp_path / "console.log"))
    vb.start()
    r = _mp(vb.paths["repl"], "fs", "ls", "/")  # the ROM has formatted the flash
    assert r.returncode == 0, (r.stdout, r.stderr)
    return vb, cfg


def _inputs(tmp_path, cfg: dict, g: dict, **change) -> tuple[str, str, str]:
    c = {**cfg, **change}
    cp = tmp_path / "unit.json"
    cp.write_text(json.dumps(c))
    bp = tmp_path / "trust.bin"
    bp.write_bytes(unhexlify(g["bundle"]))
    kd = tmp_path / "keys" / "devices"
    kd.mkdir(parents=True, exist_ok=True)
    kp = kd / (c["device_id"] + ".key")
    kp.write_text(SEED.hex() + "\n")
    return str(cp), str(bp), str(kp)


def _provision(port: str, config: str, bundle: str, *extra: str,
               timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", "provision", "--port", port,
                           "--config", config, "--bundle", bundle, "--arch", "x64", *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def _mp(port: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MPREMOTE, "connect", port, *args], capture_output=True, text=True,
                          timeout=60)


def _unit_sha(port: str, path: str) -> str | None:
    r = _mp(port, "exec", f"import hashlib,binascii\ntry:\n d=open({path!r},'rb').read()\n"
            " print('S',binascii.hexlify(hashlib.sha256(d).digest()).decode())\n"
            "except OSError:\n print('S',None)")
    assert r.returncode == 0, r.stderr
    h = next(ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("S "))
    return None if h == "None" else h


def _summary(out: str) -> dict[str, int]:
    line = next(ln for ln in out.splitlines() if ln.startswith("summary:"))
    words = line.replace(",", "").split()
    return {w: int(words[i - 1]) for i, w in enumerate(words)
            if w in ("copied", "unchanged", "verified", "removed")}


def _image_sha(vb: VirtualBoard) -> str:
    with open(os.path.join(vb.dir, "flash.img"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def blank(tmp_path):
    g = golden()
    vb, cfg = _blank_board(tmp_path, g)
    yield vb, cfg, g
    vb.stop()


def test_provision_boot_rerun_and_repair_an_interrupted_copy(blank, tmp_path):
    vb, cfg, g = blank
    port = vb.paths["repl"]
    em = ScannerEmulator(vb.paths["scanner"], line=os.path.join(vb.dir, "uart_baud"))
    try:
        config, bundle, key = _inputs(tmp_path, cfg, g)
        ev = Events(vb)
        r = _provision(port, config, bundle, "--device-key", key)
        assert r.returncode == 0, (r.stdout, r.stderr, console(vb))
        s = _summary(r.stdout)
        n = s["verified"]
        assert s["copied"] == n >= 30 and s["unchanged"] == 0, r.stdout
        assert SEED.hex() not in r.stdout + r.stderr  # the device key is never shown
        # the unit boots the provisioned firmware (first boot builds the trust cache and resets)
        st = ev.wait(lambda e: e["ev"] == "start", 40)
        assert st, console(vb)
        trust = [e for e in ev.items if e["ev"] == "trust"]
        assert trust and trust[-1]["serial"] == g["bundle_serial"] and not trust[-1]["error"]
        valid = next(c for c in g["certificates"] if c["name"] == "valid")
        em.send_code(valid["qr"])
        d = ev.wait(lambda e: e["ev"] in ("decision", "error"), 15)
        assert d and d["ev"] == "decision" and d["allow"] and d["reason"] == 0, (d, console(vb))
        seq = d["seq"]

        # second run: nothing to copy, everything verified
        r = _provision(port, config, bundle, "--device-key", key, "--no-reset")
        assert r.returncode == 0, (r.stdout, r.stderr)
        s = _summary(r.stdout)
        assert s == {"copied": 0, "unchanged": n, "verified": n, "removed": 0}, r.stdout
        assert "nothing copied" in r.stdout and "0 B sent" in r.stdout
        key_sha = hashlib.sha256((SEED.hex() + "\n").encode()).hexdigest()
        assert _unit_sha(port, "/device.key") == key_sha

        # an interrupted copy: a half-written module under its real name (as a plain
        # `mpremote fs cp` leaves it), a leftover temp file, a stale .py that would shadow
        # its .mpy (and break the boot), and a truncated trust bundle
        good = _unit_sha(port, "/gerbang/check.mpy")
        r = _mp(port, "exec",
                "def cut(p, n):\n"
                " with open(p, 'rb') as f:\n"
                "  d = f.read()\n"
                " with open(p, 'wb') as f:\n"
                "  f.write(d[:n])\n"
                "def put(p, data):\n"
                " with open(p, 'wb') as f:\n"
                "  f.write(data)\n"
                "cut('/gerbang/check.mpy', 1000)\n"
                "cut('/trust.bin', 100)\n"
                "put('/gerbang/scanlog.mpy.prov', b'half')\n"
                "put('/gerbang/reasons.py', b'raise ImportError(1)')\n"
                "import os; print('L', sorted(os.listdir('/log')))")
        assert r.returncode == 0, r.stderr
        logs = r.stdout.split("L ", 1)[1].strip()
        assert _unit_sha(port, "/gerbang/check.mpy") != good
        r = _provision(port, config, bundle, "--device-key", key)
        assert r.returncode == 0, (r.stdout, r.stderr)
        s = _summary(r.stdout)
        assert s["copied"] == 2 and s["removed"] == 2 and s["verified"] == n, r.stdout
        assert "copied /gerbang/check.mpy" in r.stdout and "copied /trust.bin" in r.stdout
        assert "removed /gerbang/reasons.py" in r.stdout
        assert "removed /gerbang/scanlog.mpy.prov" in r.stdout
        # the unit runs again and still decides; its log kept the earlier record
        st = ev.wait(lambda e: e["ev"] == "start", 40)
        assert st, console(vb)
        em.send_code(valid["qr"])
        d2 = ev.wait(lambda e: e["ev"] == "decision", 15)
        assert d2 and d2["allow"] and d2["seq"] > seq, (d2, console(vb))
        assert _unit_sha(port, "/gerbang/check.mpy") == good
        r = _mp(port, "exec", "import os; print('L', sorted(os.listdir('/log')))",
                "+", "fs", "ls", "/gerbang")
        assert r.stdout.split("L ", 1)[1].splitlines()[0].strip() == logs
        assert ".prov" not in r.stdout and "reasons.py" not in r.stdout

        # an older bundle (serial 4) never replaces the unit's list (serial 5)
        old = tmp_path / "older.bin"
        old.write_bytes(unhexlify(g["bundle_older"]))
        r = _provision(port, config, str(old), "--no-reset")
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert "kept the unit's trust list (serial 5 > 4" in r.stdout
        assert _summary(r.stdout)["copied"] == 0
        assert _unit_sha(port, "/trust.bin") == hashlib.sha256(unhexlify(g["bundle"])).hexdigest()
    finally:
        em.close()
    vb.stop()
    recs = read_log_records(os.path.join(vb.dir, "flash.img"))
    seqs = [struct.unpack_from("<I", rec)[0] for rec in recs]
    assert seq in seqs and d2["seq"] in seqs, seqs


def test_bad_inputs_refused_with_exit_2_and_nothing_written(blank, tmp_path):
    vb, cfg, g = blank
    port = vb.paths["repl"]
    image = _image_sha(vb)
    other_root = public_key_bytes(load_private_key(bytes(32))).hex()
    cases = {
        "bundle for another area": ({"area": 2}, "trust list for area 1"),
        "bundle under another root": ({"root_pub": other_root}, "does not verify"),
        "malformed root_pub": ({"root_pub": "abc"}, "root_pub"),
        "area out of range": ({"area": 19}, "area"),
        "no device_id": ({"device_id": ""}, "device_id"),
        "a baud the driver does not know": ({"baud": 57600}, "9600 and 115200"),
    }
    for name, (change, why) in cases.items():
        config, bundle, key = _inputs(tmp_path, cfg, g, **change)
        r = _provision(port, config, bundle)
        assert r.returncode == 2 and "refused" in r.stderr and why in r.stderr, (name, r.stderr)
    config, bundle, key = _inputs(tmp_path, cfg, g)
    (tmp_path / "broken.json").write_text('{"device_id": "gb-01-0001", "area": 1,')
    r = _provision(port, str(tmp_path / "broken.json"), bundle)
    assert r.returncode == 2 and "not JSON" in r.stderr, r.stderr
    wrong = tmp_path / "keys" / "devices" / "gb-01-0002.key"
    wrong.write_text(SEED.hex() + "\n")
    r = _provision(port, config, bundle, "--device-key", str(wrong))
    assert r.returncode == 2 and "made for device 'gb-01-0002'" in r.stderr, r.stderr
    (tmp_path / "keys" / "devices" / "gb-01-0001.key").write_text("zz" * 32 + "\n")
    r = _provision(port, config, bundle, "--device-key", key)
    assert r.returncode == 2 and "not 64 hex digits" in r.stderr, r.stderr
    assert SEED.hex() not in r.stdout + r.stderr
    # a dry run with good inputs talks to the unit but writes nothing either
    config, bundle, key = _inputs(tmp_path, cfg, g)
    r = _provision(port, config, bundle, "--device-key", key, "--dry-run")
    assert r.returncode == 0 and "would copy /main.py" in r.stdout, (r.stdout, r.stderr)
    assert "nothing written" in r.stdout
    r = _mp(port, "fs", "ls", "/")
    assert r.returncode == 0 and "main.py" not in r.stdout and "gerbang" not in r.stdout
    vb.stop()
    assert _image_sha(vb) == image


def test_killed_mid_copy_leaves_no_half_file_and_a_rerun_finishes(blank, tmp_path):
    """mpremote killed (cable pulled) at a growing delay until the unit holds part of the
    firmware: every file under its real name is whole (or absent); the re-run completes."""
    import signal
    import time

    from gerbang_cli.provision import FIRMWARE, Unit, build

    vb, cfg, g = blank
    port = vb.paths["repl"]
    config, bundle, _key = _inputs(tmp_path, cfg, g)
    files = build(FIRMWARE, "x64", str(tmp_path / "expect"))
    files["/config.json"] = config
    files["/trust.bin"] = bundle
    want = {}
    for p, local in files.items():
        with open(local, "rb") as f:
            want[p] = hashlib.sha256(f.read()).hexdigest()
    unit = Unit(port)
    partial = None
    delay = 1.1
    while delay < 6 and partial is None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gerbang_cli.cli", "provision", "--port", port, "--config", config,
             "--bundle", bundle, "--arch", "x64", "--no-reset"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        hashes, listing = unit.survey(sorted(want), ["/", "/gerbang", "/board"])
        for p, h in hashes.items():
            assert h in (None, want[p]), (p, "a half file under its real name", delay)
        present = sum(1 for h in hashes.values() if h)
        if present == len(want):
            break  # finished before the kill: nothing left to interrupt
        if present:
            partial = present
        delay += 0.3
    assert partial, "never caught the copy half-way"
    r = _provision(port, config, bundle, "--no-reset")
    assert r.returncode == 0, (r.stdout, r.stderr)
    s = _summary(r.stdout)
    assert s["copied"] == len(want) - partial and s["unchanged"] == partial, (partial, r.stdout)
    hashes, listing = unit.survey(sorted(want), ["/", "/gerbang", "/board"])
    assert hashes == want
    assert not [n for ents in listing.values() for n, _ in ents or () if n.endswith(".prov")]
