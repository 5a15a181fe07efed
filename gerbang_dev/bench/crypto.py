"""Crypto benchmark (`make bench` / `python -m gerbang_dev.bench crypto`): firmware Ed25519 + SHA-512.

Runs gerbang_dev/bench/mp_crypto_bench.py on the MicroPython unix port (16-bit MPZ digits, like the
ESP32) under `valgrind --tool=callgrind`, with N=1 and N=3 operations, and reports half the
difference: machine instructions per operation with start-up, imports and table building
cancelled out. Baseline in the same run: the naive RFC 8032 verify (naive_ed25519.py).
Also: wall time per verify (plain micropython, best of 20), the heap one more PublicKey keeps,
the smallest free heap in which one verify runs once everything else is loaded and the rest of
the heap is taken by a ballast block (the verify's transient need, fragmentation included), and
the smallest -X heapsize for the whole script.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from gerbang_dev.interpreters import ALL, UNIX64, Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
SCRIPT = "gerbang_dev/bench/mp_crypto_bench.py"
SEED = bytes(range(32))
MSG = bytes((i * 37 + 11) & 0xFF for i in range(200))  # same message as the MicroPython script
TARGET_VERIFY_M = 30.0  # million instructions (docs/CRYPTO.md)
TARGET_TRANSIENT = 16 * 1024
TARGET_TABLES = 40 * 1024  # B + 3 issuer keys


def _key_and_sig() -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    sk = Ed25519PrivateKey.from_private_bytes(SEED)
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return pub.hex(), sk.sign(MSG).hex()


def _mp(args: list[str], heap: str | None = None,
        interp: Interpreter = UNIX64) -> subprocess.CompletedProcess[str]:
    cmd = [interp.exe()] + (["-X", "heapsize=" + heap] if heap else []) + [SCRIPT] + args
    return subprocess.run(cmd, cwd=ROOT, env=interp.env(), capture_output=True, text=True, timeout=600)


def _callgrind(op: str, n: int, keys: tuple[str, str], interp: Interpreter = UNIX64) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           interp.exe(), SCRIPT, op, str(n), *keys]
    proc = subprocess.run(cmd, cwd=ROOT, env=interp.env(), capture_output=True, text=True, timeout=600)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"callgrind {op} {n} failed: {proc.stderr[-2000:]}")
    return int(m.group(1))


def instructions(keys: tuple[str, str], interp: Interpreter = UNIX64) -> dict[str, float]:
    """Million instructions per operation for verify, naive, sha."""
    ops = ["verify", "naive", "sha"]
    jobs = [(op, n) for op in ops for n in (1, 3)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        counts = dict(zip(jobs, ex.map(lambda j: _callgrind(j[0], j[1], keys, interp), jobs), strict=True))
    return {op: (counts[(op, 3)] - counts[(op, 1)]) / 2 / 1e6 for op in ops}


def _fits(heap_bytes: int, n: int, keys: tuple[str, str], interp: Interpreter = UNIX64) -> bool:
    proc = _mp(["heap", str(n), *keys], heap=str(heap_bytes), interp=interp)
    return proc.returncode == 0 and proc.stdout.strip().endswith("ok")


def min_heap(n: int, keys: tuple[str, str], interp: Interpreter = UNIX64) -> int:
    """Smallest -X heapsize (256-byte steps) in which the heap op runs (n=1: with one verify)."""
    lo, hi = 8 * 1024, 128 * 1024
    if not _fits(hi, n, keys, interp):
        raise RuntimeError(f"does not run in {hi} bytes")
    while hi - lo > 256:
        mid = (lo + hi) // 2 // 256 * 256
        if _fits(mid, n, keys, interp):
            hi = mid
        else:
            lo = mid
    return hi


def _room_ok(room: int, keys: tuple[str, str], interp: Interpreter = UNIX64) -> bool:
    proc = _mp(["room", str(room), *keys], heap="128K", interp=interp)
    return proc.returncode == 0 and proc.stdout.strip().endswith("ok")


def verify_room(keys: tuple[str, str], interp: Interpreter = UNIX64) -> int:
    """Smallest free heap (256-byte steps) in which one verify runs, everything else loaded."""
    lo, hi = 0, 64 * 1024
    if not _room_ok(hi, keys, interp):
        raise RuntimeError("verify does not run in 64 KiB of free heap")
    while hi - lo > 256:
        mid = (lo + hi) // 2 // 256 * 256
        if _room_ok(mid, keys, interp):
            hi = mid
        else:
            lo = mid
    return hi


def run_one(interp: Interpreter, keys: tuple[str, str]) -> None:
    ins = instructions(keys, interp)
    ratio = ins["naive"] / ins["verify"]
    print(f"[{interp.name}] instructions per op (callgrind, MicroPython unix port, 16-bit MPZ "
          "digits):")
    print(f"  firmware verify (200-byte msg, incl. SHA-512): {ins['verify']:7.2f} M"
          f"  (target <= {TARGET_VERIFY_M:.0f} M)")
    print(f"  naive RFC 8032 verify (baseline):              {ins['naive']:7.2f} M")
    print(f"  ratio naive / firmware:                        {ratio:7.1f} x")
    print(f"  firmware SHA-512 of 200 bytes:                 {ins['sha']:7.3f} M")
    us = _mp(["time", "20", *keys], interp=interp).stdout.split()[-1]
    print(f"[{interp.name}] wall time per verify (plain micropython on this machine, best of 20): {us} us")
    mem = dict(line.split() for line in _mp(["mem", "1", *keys], interp=interp).stdout.splitlines())
    per_key = int(mem["key_bytes"])
    print(f"[{interp.name}] persistent heap per PublicKey (table + object): {per_key} bytes;"
          f" B + 3 issuer keys: {4 * per_key} bytes (target well under {TARGET_TABLES})")
    room = verify_room(keys, interp)
    print(f"[{interp.name}] free heap one verify needs (all else loaded, rest of the heap ballasted): {room}"
          f" bytes (target <= {TARGET_TRANSIENT})")
    print(f"[{interp.name}] smallest -X heapsize for modules + B table + 1 key + one verify:"
          f" {min_heap(1, keys, interp)} bytes (table building is the peak)")
    print(f"[{interp.name}] runs under -X heapsize=64K:", _fits(64 * 1024, 1, keys, interp))


def run() -> None:
    keys = _key_and_sig()
    for interp in ALL:
        why = interp.missing()
        if why:
            print(f"[{interp.name}] skipped: {why}")
            continue
        run_one(interp, keys)
