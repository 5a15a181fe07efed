"""Benchmark of one certificate check on the MicroPython unix port (the door's hot path).

Figures: callgrind machine instructions per check (N=3 minus N=1 checks, so start-up and the
trust-list load cancel out), wall time, the heap a check needs (found by leaving only X bytes
free before the check and searching for the smallest X that works, fragmentation included),
whether load + check fit in `-X heapsize=64K`, and the naive reference verify for scale.
Targets: <= 40 M instructions and <= 24 KiB transient heap per check."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
TARGET_INSTR = 40_000_000
TARGET_HEAP = 24 * 1024

SCRIPT = r"""
import sys, gc, time
sys.path.insert(0, "firmware")
sys.path.insert(0, "tools/bench")
mode, d = sys.argv[1], sys.argv[2]
arg = int(sys.argv[3])
if mode == "naive":
    import naive_ed25519
    from gerbang.cose import sig_structure
    pub = open(d + "/issuer.bin", "rb").read()
    tbs = open(d + "/tbs.bin", "rb").read()
    sig = open(d + "/sig.bin", "rb").read()
    for _ in range(arg):
        ok = naive_ed25519.verify(pub, tbs, sig)
    print("naive", arg, ok if arg else "-")
    sys.exit(0)
from gerbang.truststore import TrustStore
from gerbang.check import Checker
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
elif mode == "alloc":
    gc.collect()
    a = gc.mem_alloc()
    gc.disable()
    r = c.check(qr, now, 0)
    print("alloc", gc.mem_alloc() - a, r.reason)
elif mode == "free":  # leave only `arg` bytes free, then check
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
    r = c.check(qr, now, 0)
    print("free", arg, "ok" if r.reason == 0 else "reason %d" % r.reason)
elif mode == "fit":
    gc.collect()
    r = c.check(qr, now, 0)
    gc.collect()
    print("fit", r.reason, gc.mem_alloc(), gc.mem_free())
"""


def _mp(d: str, mode: str, arg: int, heap: str = "4M", valgrind: bool = False) -> tuple[str, str]:
    cmd = [MICROPYTHON, "-X", "heapsize=" + heap, os.path.join(d, "bench.py"), mode, d, str(arg)]
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


def _fixtures(d: str) -> None:
    with open(os.path.join(ROOT, "tests/vectors/golden.json")) as f:
        g = json.load(f)
    valid = next(c for c in g["certificates"] if c["name"] == "valid")
    files = {"bundle.bin": bytes.fromhex(g["bundle"]), "root.bin": bytes.fromhex(g["root_pub"]),
             "issuer.bin": bytes.fromhex(g["issuer_pub"])}
    # the naive verify gets the same Sig_structure and signature as the checked certificate
    sys.path.insert(0, ROOT)
    from tools.protocol import decode_qr, decode_sign1

    msg = decode_sign1(decode_qr(valid["qr"]))
    files["tbs.bin"] = msg.to_be_signed()
    files["sig.bin"] = msg.signature
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "valid.txt"), "w") as f:
        f.write(valid["qr"])
    with open(os.path.join(d, "now.txt"), "w") as f:
        f.write(str(g["now"]))
    with open(os.path.join(d, "bench.py"), "w") as f:
        f.write(SCRIPT)


def _heap_needed(d: str) -> int | None:
    """Smallest free heap (bytes, 256-byte steps) with which a check still succeeds."""
    lo, hi = 0, 96 * 1024
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


def run() -> None:
    d = tempfile.mkdtemp(prefix="gerbang-bench-check-")
    try:
        _fixtures(d)
        out, err = _mp(d, "count", 1)
        if not out.startswith("count"):
            print("  check does not run:", out, err[-300:])
            return
        ms, _ = _mp(d, "time", 20)
        print(f"  wall time per check (unix port, this machine): {float(ms.split()[1]):.2f} ms")
        if shutil.which("valgrind"):
            per = (_instructions(d, "count", 3) - _instructions(d, "count", 1)) // 2
            verdict = "OK" if per <= TARGET_INSTR else "OVER"
            print(f"  instructions per check (callgrind): {per / 1e6:.1f} M "
                  f"(target <= {TARGET_INSTR / 1e6:.0f} M: {verdict})")
            if os.path.exists(os.path.join(ROOT, "tools/bench/naive_ed25519.py")):
                naive = _instructions(d, "naive", 2) - _instructions(d, "naive", 1)
                print(f"  naive reference verify alone: {naive / 1e6:.1f} M "
                      f"(check = {per / naive:.2f} x naive verify)")
        else:
            print("  valgrind not installed: no instruction counts")
        alloc, _ = _mp(d, "alloc", 0)
        print(f"  bytes allocated during one check (gc disabled): {alloc.split()[1]}")
        need = _heap_needed(d)
        if need is None:
            print("  heap needed by a check: over 96 KiB")
        else:
            verdict = "OK" if need <= TARGET_HEAP else "OVER"
            print(f"  free heap a check needs (peak transient): {need / 1024:.2f} KiB "
                  f"(target <= {TARGET_HEAP // 1024} KiB: {verdict})")
        for heap in ("64K", "112K"):
            out, err = _mp(d, "fit", 0, heap=heap)
            if out.startswith("fit 0"):
                _, _, used, free = out.split()
                print(f"  -X heapsize={heap}: load + check OK ({used} B held, {free} B free)")
            else:
                last = (out + " " + err.strip().splitlines()[-1] if err.strip() else out)
                print(f"  -X heapsize={heap}: load + check FAILS ({last.strip()[:120]})")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run()
