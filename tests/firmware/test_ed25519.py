"""Strict Ed25519 (firmware/gerbang/ed25519.py): RFC 8032, Wycheproof, speccheck, differential."""

import sys

from fwtest import GOLDEN, SHARED_VECTORS, check, load_json, raises, skip
from gerbang import ed25519

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493


def _h(s):
    return bytes.fromhex(s)


def _rfc():
    return load_json(SHARED_VECTORS + "/rfc8032/rfc8032_7_1_ed25519.json")["vectors"]


def _le(n):
    return n.to_bytes(32, "little")


def test_rfc8032_public_key_sign_verify():
    for v in _rfc():
        seed, pub, msg, sig = (_h(v[k]) for k in ("secret_key", "public_key", "message",
                                                    "signature"))
        check(ed25519.public_key(seed) == pub, v["name"] + " public_key")
        check(ed25519.sign(seed, msg) == sig, v["name"] + " sign")
        check(ed25519.PublicKey(pub).verify(msg, sig) is True, v["name"] + " verify")
        check(ed25519.verify(pub, msg, sig) is True, v["name"] + " module verify")


def test_rfc8032_tampered_rejected():
    for v in _rfc()[:3]:
        pub, msg, sig = _h(v["public_key"]), _h(v["message"]), _h(v["signature"])
        key = ed25519.PublicKey(pub)
        check(not key.verify(msg + b"\x00", sig))
        for pos in (0, 31, 32, 63):
            bad = bytearray(sig)
            bad[pos] ^= 0x01
            check(not key.verify(msg, bytes(bad)), "sig byte %d" % pos)


def test_s_plus_l_malleability_rejected():
    v = _rfc()[0]
    pub, sig = _h(v["public_key"]), _h(v["signature"])
    s = int.from_bytes(sig[32:], "little")
    check(ed25519.verify(pub, b"", sig))
    check(not ed25519.verify(pub, b"", sig[:32] + _le(s + _L)))
    check(not ed25519.verify(pub, b"", sig[:32] + _le(_L)))


def _wycheproof(name):
    key = last = None  # lines of one group share a key: keep one table alive, as a door does
    n = bad = 0
    with open(GOLDEN + "/ed25519/" + name) as f:
        for line in f:
            if line.startswith("#"):
                continue
            tc, result, pk, msg, sig = line.split()
            msg = b"" if msg == "-" else _h(msg)
            sig = b"" if sig == "-" else _h(sig)
            if pk != last:
                key = None
                key = ed25519.PublicKey(_h(pk))
                last = pk
            got = key.verify(msg, sig)
            if n % 3 == 0:  # the table-less one-off verify too (a third of the cases: time)
                one = ed25519.verify(_h(pk), msg, sig)
                if one != got:
                    bad += 1
                    print("tcId", tc, "one-off verify says", one)
            if got != (result == "1"):
                bad += 1
                print("tcId", tc, "expected", result, "got", got)
            n += 1
    check(n > 140 and bad == 0, "%d of %d cases disagree" % (bad, n))


def test_wycheproof_ed25519_test_json():
    _wycheproof("wycheproof_ed25519.txt")


def test_wycheproof_eddsa_test_v0_json():
    _wycheproof("wycheproof_eddsa_v0.txt")


# Strict cofactorless RFC 8032: #0-#3 (small-order/mixed A or R, equation holds exactly)
# verify; #4-#5 only satisfy the cofactored equation; #6-#7 have S >= L; #8-#9 a non-canonical
# R; #10-#11 a non-canonical A (x = 0 with the sign bit set), refused already by PublicKey.
_SPECCHECK = (True, True, True, True, False, False, False, False, False, False, False, False)


def test_speccheck_cases():
    cases = load_json(SHARED_VECTORS + "/ed25519-speccheck/cases.json")
    check(len(cases) == len(_SPECCHECK))
    for i, c in enumerate(cases):
        got = ed25519.verify(_h(c["pub_key"]), _h(c["message"]), _h(c["signature"]))
        check(got is _SPECCHECK[i], "speccheck #%d: got %r" % (i, got))
    for i in (10, 11):
        raises(ValueError, ed25519.PublicKey, _h(cases[i]["pub_key"]))


def test_public_key_rejects_non_canonical_and_off_curve():
    bad = [
        _le(_P),  # y = p
        _le(_P + 1),  # y = p + 1 (would alias y = 1)
        _le(2**255 - 1),  # y = 2^255 - 1
        _le(1 | (1 << 255)),  # y = 1, x = 0 with the sign bit
        _le(2),  # y = 2: (y^2 - 1)/(d y^2 + 1) is not a square, no x
        b"\x01" + bytes(30),  # 31 bytes
        bytes(33),
    ]
    for enc in bad:
        raises(ValueError, ed25519.PublicKey, enc)
        check(ed25519.verify(enc, b"m", bytes(64)) is False)
    ed25519.PublicKey(_le(1))  # the identity itself is canonical and on the curve


def test_never_raises_for_bad_lengths_or_types():
    v = _rfc()[1]
    pub, msg, sig = _h(v["public_key"]), _h(v["message"]), _h(v["signature"])
    key = ed25519.PublicKey(pub)
    for s in (b"", sig[:63], sig + b"\x00", bytes(64), b"\xff" * 64, None, 7):
        check(key.verify(msg, s) is False)
        check(ed25519.verify(pub, msg, s) is False)
    check(key.verify(None, sig) is False)
    check(ed25519.verify(None, msg, sig) is False)
    check(key.verify(bytearray(msg), bytearray(sig)) is True)
    check(key.verify(memoryview(msg), memoryview(sig)) is True)


def test_sign_verify_roundtrip_and_seed_length():
    seed = bytes(range(32))
    pub = ed25519.public_key(seed)
    key = ed25519.PublicKey(pub)
    for n in (0, 1, 200, 1000):
        msg = bytes((i * 13) & 0xFF for i in range(n))
        sig = ed25519.sign(seed, msg)
        check(len(sig) == 64 and key.verify(msg, sig), "length %d" % n)
        check(not key.verify(msg + b"!", sig))
    raises(ValueError, ed25519.public_key, bytes(31))
    raises(ValueError, ed25519.sign, bytes(33), b"")


def test_extracted_wycheproof_files_match_originals():
    if sys.implementation.name == "micropython":
        skip("checked by the CPython run")
    import os
    import subprocess

    script = os.path.join(GOLDEN, "ed25519", "extract.py")
    proc = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True)
    check(proc.returncode == 0, proc.stdout + proc.stderr)


def test_differential_against_cryptography():
    if sys.implementation.name == "micropython":
        skip("cryptography (OpenSSL) is host-only")
    import random

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def ref(pub, msg, sig):
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
            return True
        except (InvalidSignature, ValueError):
            return False

    rng = random.Random(25519)
    cases = 0
    for _ in range(12):
        seed = rng.randbytes(32)
        sk = Ed25519PrivateKey.from_private_bytes(seed)
        pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        check(ed25519.public_key(seed) == pub)
        msg = rng.randbytes(rng.randrange(0, 300))
        sig = sk.sign(msg)
        check(ed25519.sign(seed, msg) == sig)
        check(ed25519.verify(pub, msg, sig) is True)
        for _ in range(6):
            which = rng.randrange(3)
            p, m, s = bytearray(pub), bytearray(msg or b"\x00"), bytearray(sig)
            buf = (p, m, s)[which]
            bit = rng.randrange(len(buf) * 8)
            buf[bit // 8] ^= 1 << (bit % 8)
            p, m, s = bytes(p), bytes(m), bytes(s)
            check(ed25519.verify(p, m, s) == ref(p, m, s), "part %d bit %d" % (which, bit))
            cases += 1
    check(cases == 72)
