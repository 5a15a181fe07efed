"""How long a revocation list the door takes (`python -m gerbang_dev.bench revoked`).

Per interpreter: the largest number of revoked certificate ids for which a trust bundle (the
typical door's two issuer keys and policy, host reference, fixed seeds) is installed at boot
from trust.bin.new under `-X heapsize=112K` (verified, bundle + cache written, list read back:
gerbang_dev.bench.check BOOT "install"), and the door then boots from the cache and allows a
valid certificate and denies a revoked one, also at 112K. Binary search in steps of STEP ids.
The sync boot's side (the bundle arriving in a sync answer) is tests/e2e/test_sync_e2e.py's."""

from __future__ import annotations

import os
import shutil

from gerbang_dev.bench.check import (
    AREA,
    DAY,
    NOW,
    _seed,
    boot,
    boot_and_check,
    boot_dir,
    compile_mpy,
    short_dir,
)
from gerbang_dev.interpreters import ALL, Interpreter
from gerbang_protocol.trustlist import MAX_REVOKED

STEP = 250
TARGET = 5000  # issue #14: a list with 5,000 revocations fits at 112K on the 32-bit interpreter


def big_list(n: int) -> tuple[bytes, bytes, str, str]:
    """(bundle, root public key, a valid QR, a revoked QR) for a list with n revoked ids (the
    protocol's cap is not applied here: this measures what the door takes)."""
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
    )
    from gerbang_protocol import cbor as pcbor
    from gerbang_protocol.cose import sign1
    from gerbang_protocol.trustlist import revocation_hash

    root, signer = load_private_key(_seed("root")), load_private_key(_seed("signer"))
    old, new = load_private_key(_seed("issuer old")), load_private_key(_seed("issuer new"))
    old_pub, new_pub = public_key_bytes(old), public_key_bytes(new)
    keycert = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), NOW - 30 * DAY,
                                                NOW + 365 * DAY))
    bad_cti = _seed("revoked cti")[:16]
    revoked = {_seed(f"revoked {i}")[:8] for i in range(n - 1)} | {revocation_hash(bad_cti)}
    tl = TrustList(
        area=AREA, serial=42, issued=NOW - DAY, expires=NOW + 13 * DAY,
        keys=[TrustedKey(kid_of(old_pub), old_pub, NOW - 90 * DAY, NOW + 30 * DAY, AREA),
              TrustedKey(kid_of(new_pub), new_pub, NOW - 10 * DAY, NOW + 180 * DAY, AREA)],
        policy=Policy(min_doses=2, categories=0b000110, clock_policy=1, max_unsynced=3 * DAY,
                      reuse_window=0),
        revoked=sorted(revoked), tag_key=_seed("tag key")[:16])
    bundle = make_bundle(keycert, sign1(signer, pcbor.dumps(tl.to_cbor())))

    def qr(cti: bytes) -> str:
        return issue_qr(new, Certificate("GB/balai-kota", NOW - 5 * DAY, NOW - 5 * DAY,
                                         NOW + 360 * DAY, cti, Status(1, 2, None)))

    return bundle, public_key_bytes(root), qr(_seed("cti")[:16]), qr(bad_cti)


def installed(d: str, mpy: str, heap: str, interp: Interpreter) -> bool:
    """The install boot took the staged bundle: verified, bundle and cache written. Reading
    the list back in that same boot may fail with a long list (the heap the install leaves is
    fragmented); the door resets after every install (gerbang.startup) and reads the cache in
    a clean heap, which boot_and_check does next."""
    lines, _ = boot(d, mpy, heap, AREA, "install", interp)
    return (bool(lines) and (lines[0].startswith("load 1 cache ")
                             or "trust cache unreadable after rebuild" in lines[0])
            and not os.path.exists(os.path.join(d, "trust.bin.new"))
            and os.path.exists(os.path.join(d, "trust.bin.cache")))


def fits(n: int, interp: Interpreter, mpy: str, base: str, heap: str = "112K") -> bool:
    """A list with n revoked ids is installed at boot, and the boot after it (from the cache)
    checks: a valid certificate allowed, a revoked one REVOKED; both in heap."""
    bundle, root, good, bad = big_list(n)
    d = os.path.join(base, "r")
    boot_dir(d, bundle, root, [(NOW, 0, good), (NOW, 0, bad)])
    try:
        if not installed(d, mpy, heap, interp):
            return False
        ok, lines, _ = boot_and_check(d, mpy, heap, AREA, interp)
        got = [x.split()[1:3] for x in lines if x.startswith("d ")]
        return ok and got == [["1", "0"], ["0", "13"]]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def largest(interp: Interpreter, mpy: str, base: str, hi: int = MAX_REVOKED) -> int:
    lo = 0  # lo fits (nothing revoked: the typical door), hi does not
    if fits(hi, interp, mpy, base):
        return hi
    while hi - lo > STEP:
        mid = (lo + hi) // 2 // STEP * STEP or STEP
        if fits(mid, interp, mpy, base):
            lo = mid
        else:
            hi = mid
    return lo


def run() -> None:
    for interp in ALL:
        why = interp.missing()
        if why:
            print(f"  [{interp.name}] skipped: {why}")
            continue
        base = short_dir()
        try:
            mpy = compile_mpy(os.path.join(base, "m"), interp)
            n = largest(interp, mpy, base)
            how = "the firmware's cap" if n == MAX_REVOKED else f"+- {STEP}"
            line = (f"  [{interp.name}] largest revocation list installed at boot and checked "
                    f"at 112K: {n} ids ({how}; bundle {len(big_list(max(n, 1))[0])} B)")
            if interp.word_bits == 32:
                line += f" (target >= {TARGET}: {'PASS' if n >= TARGET else 'FAIL'})"
            print(line)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    run()
