"""Differential test: the firmware checker under the real MicroPython unix port against the
host reference (gerbang_protocol.check) on a few thousand random and mutated certificates.

One micropython process reads every case from a file and prints one verdict per line; the
host decides the same cases; every verdict (allow, reason, kid, subject tag, flags) must agree.
On each interpreter of gerbang_dev/interpreters.py (64-bit port; the 32-bit build with the
ESP32's 31-bit small ints, skipped with the reason when absent)."""

import os
import random
import subprocess
import zlib

import cbor2
import pytest

from gerbang_dev.interpreters import ALL, Interpreter
from gerbang_protocol import (
    Certificate,
    KeyCertificate,
    Policy,
    Status,
    TrustedKey,
    TrustList,
    base45,
    kid_of,
    make_bundle,
    make_keycert,
    open_bundle,
    public_key_bytes,
    sign1,
    sign_trustlist,
)
from gerbang_protocol.cert import encode_claims
from gerbang_protocol.check import Checker
from gerbang_protocol.keys import load_private_key

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NOW = 1_795_000_000
DAY = 86400
AREA = 3
N_CERTS = 700  # each gives one certificate and several mutations: ~3000 cases

RUNNER = r"""
import sys
sys.path.insert(0, "firmware")
from gerbang import trustinstall
from gerbang.truststore import TrustStore
from gerbang.check import Checker
root = open(sys.argv[2], "rb").read()
st = TrustStore(sys.argv[1], root, int(sys.argv[3]))
if not trustinstall.load(st, None):
    print("LOAD", st.error)
    sys.exit(1)
c = Checker(st, int(sys.argv[3]))
out = sys.stdout
with open(sys.argv[4]) as f:
    for line in f:
        now, clock, qr = (line.split() + [""])[:3]  # an empty QR is a case too
        d = c.check(bytes.fromhex(qr).decode(), int(now), int(clock))
        out.write("%d %d %s %s %d\n" % (d.allow, d.reason, d.kid.hex() if d.kid else "-",
                                        d.subject_tag.hex() if d.subject_tag else "-", d.flags))
"""


def _key(n: int):
    return load_private_key(bytes([n]) * 32)


def _world():
    root, signer = _key(1), _key(2)
    issuer, retired, decoy = _key(3), _key(4), _key(5)
    ipub = public_key_bytes(issuer)
    keys = [
        TrustedKey(kid_of(ipub), ipub, NOW - 300 * DAY, NOW + 300 * DAY, AREA),
        TrustedKey(kid_of(public_key_bytes(retired)), public_key_bytes(retired),
                   NOW - 900 * DAY, NOW - 5 * DAY, AREA),
        # a decoy whose listed kid collides with the issuer's: both are tried
        TrustedKey(kid_of(ipub), public_key_bytes(decoy), NOW - 300 * DAY, NOW + 300 * DAY, 9),
    ]
    revoked_ctis = [bytes([0xEE, i]) * 8 for i in range(20)]
    tl = TrustList(AREA, 7, NOW - 10 * DAY, NOW + 20 * DAY, keys,
                   Policy(min_doses=2, categories=0b101110, clock_policy=0, reuse_window=0),
                   sorted({__import__("hashlib").sha256(c).digest()[:8] for c in revoked_ctis}),
                   bytes(range(16)))
    kc = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), NOW - 100 * DAY,
                                           NOW + 1000 * DAY))
    bundle = make_bundle(kc, sign_trustlist(signer, tl))
    return public_key_bytes(root), bundle, [issuer, retired, decoy, _key(6)], revoked_ctis


def _compress(cose: bytes, wbits: int = 10) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return c.compress(cose) + c.flush()


def _qr(cose: bytes, wbits: int = 10) -> str:
    return "GB1:" + base45.encode(_compress(cose, wbits))


def _head(major: int, n: int, width: int | None = None) -> bytes:
    """CBOR head, optionally with a non-minimal argument width (1, 2, 4 or 8 bytes)."""
    if width is None:
        return _min_head(major, n)
    ai = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | ai]) + n.to_bytes(width, "big")


def _min_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for ai, w in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * w):
            return bytes([major << 5 | ai]) + n.to_bytes(w, "big")
    raise ValueError(n)


def _raw_claims(rng: random.Random, claims: dict) -> bytes:
    """The claims map with random non-deterministic but well-formed encodings."""
    indefinite = rng.random() < 0.5
    out = bytearray(b"\xbf" if indefinite else _min_head(5, len(claims)))
    for k, v in claims.items():
        out += cbor2.dumps(k)
        if type(v) is int and v >= 0 and rng.random() < 0.5:
            out += _head(0, v, rng.choice([w for w in (1, 2, 4, 8) if v < 1 << (8 * w)]))
        elif type(v) is bytes and rng.random() < 0.3:
            out += b"\x5f" + cbor2.dumps(v[:5]) + cbor2.dumps(v[5:]) + b"\xff"
        else:
            out += cbor2.dumps(v)
    if indefinite:
        out += b"\xff"
    return bytes(out)


def _claims(rng: random.Random, ctis: list[bytes]) -> dict:
    cat = rng.choice([1, 1, 1, 2, 3, 4, 5])
    doses = rng.randrange(0, 5)
    iat = NOW + rng.randrange(-400 * DAY, 2 * DAY)
    nbf = iat + rng.choice([0, 0, 0, DAY, 10 * DAY])
    exp = nbf + rng.choice([DAY, 30 * DAY, 365 * DAY, 5])
    cti = rng.choice(ctis) if rng.random() < 0.1 else rng.randbytes(16)
    status: list = [cat, doses]
    if rng.random() < 0.4:
        status.append(sorted(rng.sample(range(1, 19), rng.randrange(1, 5))))
    claims: dict = {1: "GB/test", 6: iat, 5: nbf, 4: exp, 7: cti, -65537: status}
    r = rng.random()
    if r < 0.05:
        claims[rng.choice([99, "note", -3])] = rng.choice([1, "x", b"y", [1]])
    elif r < 0.12:  # malformed claims, signed: CLAIMS after the signature
        bad = rng.choice([
            (4, -1), (4, 2**32), (4, True), (4, 1.5), (7, b"short"), (6, None), (1, "i" * 65),
            (-65537, [6, 1]), (-65537, [1, 16]), (-65537, [1, 1, []]), (-65537, [1, 1, [19]]),
            (-65537, [1, 1, [1], 4]), (-65537, "status"), (b"label", 1), (5, cbor2.CBORTag(1, 5)),
        ])
        claims[bad[0]] = bad[1]
    elif r < 0.14:
        del claims[rng.choice([6, 5, 4, 7, -65537])]
    return claims


def _mutations(rng: random.Random, cose: bytes, qr: str) -> list[str]:
    out = []
    b = bytearray(cose)
    i = rng.randrange(len(b))
    b[i] ^= 1 << rng.randrange(8)
    out.append(_qr(bytes(b)))  # bit flip in the COSE bytes, recompressed
    out.append(_qr(cose[: rng.randrange(1, len(cose))]))  # truncated
    r = rng.random()
    if r < 0.3 and cose[1] == 0x84:  # outer array re-encoded with an indefinite length
        out.append(_qr(cose[:1] + b"\x9f" + cose[2:] + b"\xff"))
    elif r < 0.5:
        out.append(_qr(cose + b"\x00"))  # trailing byte
    elif r < 0.6:
        out.append(_qr(cose, 15))  # window too large
    elif r < 0.7:
        z = bytearray(_compress(cose))
        z[-1] ^= 1  # Adler-32 mismatch
        out.append("GB1:" + base45.encode(bytes(z)))
    elif r < 0.8:
        out.append("GB1:" + base45.encode(_compress(cose) + b"\x00"))  # bytes after the stream
    t = list(qr)
    j = rng.randrange(4, len(t))
    t[j] = rng.choice(base45.ALPHABET + "a#")
    out.append("".join(t))  # one character changed in the QR text
    if rng.random() < 0.2:
        out.append(qr[: rng.randrange(len(qr))])
    return out


def _chunked(b: bytes, rng: random.Random) -> bytes:
    """b as an indefinite-length byte string of 1-3 chunks (well-formed CBOR, refused by the
    profile)."""
    cuts = sorted(rng.sample(range(1, len(b)), min(2, len(b) - 1))) if len(b) > 1 else []
    parts = [b[i:j] for i, j in zip([0, *cuts], [*cuts, len(b)], strict=True)]
    return b"\x5f" + b"".join(cbor2.dumps(x) for x in parts) + b"\xff"


def _sign_raw(key, protected: bytes, payload: bytes, rng: random.Random,
              chunk_protected: bool = False, chunk_payload: bool = False) -> bytes:
    """A correctly signed COSE_Sign1 (the signature covers the byte contents) whose header or
    payload byte string may be written in chunks."""
    sig = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    out = b"\xd2\x84"
    out += _chunked(protected, rng) if chunk_protected else cbor2.dumps(protected)
    out += b"\xa0"
    out += _chunked(payload, rng) if chunk_payload else cbor2.dumps(payload)
    return out + cbor2.dumps(sig)


_BAD_UTF8 = [b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3", b"\xe2\x82",
             b"\xf0\x9f\x98", b"\x80", b"\xff", b"\xe0\x80\xaf"]
# protected headers whose labels are 1 and 4 to Python, not to CBOR (1 == True == 1.0)
_BAD_LABELS = [
    lambda kid: b"\xa2\xf5\x27\x04\x48" + kid,  # {true: -8, 4: kid}
    lambda kid: b"\xa2\xf9\x3c\x00\x27\x04\x48" + kid,  # {1.0: -8, 4: kid}
    lambda kid: b"\xa2\xfb\x3f\xf0" + bytes(6) + b"\x27\x04\x48" + kid,  # {1.0 (double): -8, 4: kid}
    lambda kid: b"\xa2\x01\x27\xf9\x44\x00\x48" + kid,  # {1: -8, 4.0: kid}
    lambda kid: b"\xa3\x01\x27\x04\x48" + kid + b"\xf5\x01",  # {1: -8, 4: kid, true: 1}
    lambda kid: b"\xa2\x61\x31\x27\x61\x34\x48" + kid,  # {"1": -8, "4": kid}
]


def _hostile(rng: random.Random, key, claims: dict) -> tuple[bytes, int]:
    """A correctly signed certificate from one of the classes of issue 10 and the reason both
    sides must deny it with (a deny the old door and host got wrong, or got wrong together)."""
    kid = kid_of(public_key_bytes(key))
    protected = cbor2.dumps({1: -8, 4: kid}, canonical=True)
    payload = cbor2.dumps(claims, canonical=True)
    kind = rng.randrange(6)
    if kind == 0:  # payload bstr in chunks: the old door raised TypeError (INTERNAL)
        return _sign_raw(key, protected, payload, rng, chunk_payload=True), 4
    if kind == 1:  # protected header bstr in chunks
        return _sign_raw(key, protected, payload, rng, chunk_protected=True), 4
    if kind == 2:  # a chunked claim inside the payload
        raw = bytearray(cbor2.dumps({k: v for k, v in claims.items() if k != 7}, canonical=True))
        raw[0] += 1  # one more pair
        raw += b"\x07" + _chunked(claims[7], rng)
        return _sign_raw(key, protected, bytes(raw), rng), 9
    if kind == 3:  # iss not valid UTF-8: the old door allowed it, the host refused it
        iss = b"GB/" + rng.choice(_BAD_UTF8) + b"x" * rng.randrange(3)
        rest = cbor2.dumps({k: v for k, v in claims.items() if k != 1}, canonical=True)
        raw = bytes([rest[0] + 1]) + b"\x01" + bytes([0x60 | len(iss)]) + iss + rest[1:]
        return _sign_raw(key, protected, raw, rng), 9
    if kind == 4:  # mistyped protected header labels: both old sides took them as alg/kid
        return _sign_raw(key, rng.choice(_BAD_LABELS)(kid), payload, rng), 5
    # a claims map with a true/1.0 key beside the integer labels
    rest = cbor2.dumps(claims, canonical=True)
    extra = rng.choice([b"\xf5\x61\x78", b"\xf9\x44\x00\x1a\x00\x01\x00\x00", b"\xf4\x00"])
    return _sign_raw(key, protected, bytes([rest[0] + 1]) + rest[1:] + extra, rng), 9


def _cases(rng: random.Random, keys, ctis) -> list[tuple[int, int, str]]:
    issuer, retired, decoy, unknown = keys
    cases = []
    for _ in range(N_CERTS):
        claims = _claims(rng, ctis)
        key = rng.choices([issuer, retired, decoy, unknown], [85, 5, 5, 5])[0]
        if rng.random() < 0.3:
            payload = _raw_claims(rng, claims)
        else:
            payload = cbor2.dumps(claims, canonical=True)
        if key is decoy:  # signed by the decoy key but carrying the issuer's kid
            protected = cbor2.dumps({1: -8, 4: kid_of(public_key_bytes(issuer))}, canonical=True)
            sig = decoy.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
            cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]))
        else:
            cose = sign1(key, payload)
        qr = _qr(cose)
        now = NOW + rng.choice([0, 0, 0, rng.randrange(-30 * DAY, 30 * DAY)])
        clock = rng.choices([0, 1, 2], [80, 10, 10])[0]
        cases.append((now, clock, qr))
        for m in _mutations(rng, cose, qr):
            cases.append((now, clock, m))
        if rng.random() < 0.25 and key is issuer:
            bad, reason = _hostile(rng, issuer, _claims(rng, ctis) if rng.random() < 0.1 else
                                   {1: "GB/test", 6: NOW - DAY, 5: NOW - DAY, 4: NOW + DAY,
                                    7: rng.randbytes(16), -65537: [1, 3]})
            HOSTILE[_qr(bad)] = reason
            cases.append((NOW, 0, _qr(bad)))
    return cases


HOSTILE: dict[str, int] = {}  # QR of a hostile case -> the reason both sides must deny it with


@pytest.mark.parametrize("interp", ALL, ids=[i.name for i in ALL])
def test_firmware_matches_host_reference(tmp_path, interp: Interpreter) -> None:
    why = interp.missing()
    if why:
        pytest.skip(why)
    rng = random.Random(20261118)
    root_pub, bundle, keys, ctis = _world()
    _, trustlist = open_bundle(bundle, root_pub, NOW)
    cases = _cases(rng, keys, ctis)
    # a few well-formed certificates from the host's own issuer path too
    cert = Certificate("GB/x", NOW - DAY, NOW - DAY, NOW + DAY, bytes(16), Status(1, 3))
    cases.append((NOW, 0, _qr(sign1(keys[0], encode_claims(cert)))))

    (tmp_path / "bundle.bin").write_bytes(bundle)
    (tmp_path / "root.bin").write_bytes(root_pub)
    (tmp_path / "runner.py").write_text(RUNNER)
    with open(tmp_path / "cases.txt", "w") as f:
        for now, clock, qr in cases:
            f.write(f"{now} {clock} {qr.encode().hex()}\n")
    proc = subprocess.run(
        [interp.micropython, "-X", "heapsize=4M", str(tmp_path / "runner.py"), str(tmp_path / "bundle.bin"),
         str(tmp_path / "root.bin"), str(AREA), str(tmp_path / "cases.txt")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == len(cases)

    reasons: dict[int, int] = {}
    mismatches = []
    for (now, clock, qr), line in zip(cases, lines, strict=True):
        d = Checker(trustlist, AREA).check(qr, now, clock)
        kid = d.kid.hex() if d.kid else "-"
        tag = d.subject_tag.hex() if d.subject_tag else "-"
        host = f"{d.allow:d} {d.reason:d} {kid} {tag} {d.flags:d}"
        reasons[int(d.reason)] = reasons.get(int(d.reason), 0) + 1
        if host != line:
            mismatches.append((qr, now, clock, host, line))
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ, e.g. {mismatches[:3]}"
    # the hostile classes (chunked strings, bad UTF-8, bool/float labels): both sides deny them
    # with the one reason (both old sides allowed a {true: -8, 4: kid} header: agreeing is not
    # enough)
    wrong = [(qr, line) for (now, clock, qr), line in zip(cases, lines, strict=True)
             if qr in HOSTILE and line.split()[:2] != ["0", str(HOSTILE[qr])]]
    assert not wrong, f"{len(wrong)} of {len(HOSTILE)} hostile cases not denied right: {wrong[:3]}"
    assert len(HOSTILE) >= 100, len(HOSTILE)
    # the random cases must reach deep into the check, not just fail early
    for reason in (0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16):
        assert reasons.get(reason, 0) > 0, f"no case ended in reason {reason}: {reasons}"
    assert len(cases) >= 2500
