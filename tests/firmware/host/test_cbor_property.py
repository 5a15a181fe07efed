"""Property test: the door's CBOR decoder under the real MicroPython unix port, in both modes
(copies and views), against the host reference (gerbang_protocol.cbor on cbor2) on generated
CBOR values and on random and mutated bytes (seeded: every run decides the same cases), the generated values from our own seeded
generator and from hypothesis (derandomized).

For every input both must give an equal value or both refuse it, and the door must refuse with
its one error type (Reject) in both modes: any other exception is a failure. COSE protected
headers with mistyped or extra labels go through both COSE decoders the same way."""

import os
import random
import struct
import subprocess
import sys

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gerbang_protocol import ProtocolError, Reason
from gerbang_protocol import cbor as strict_cbor
from gerbang_protocol.cose import decode_sign1

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
SEED = 20261203

# One line per case in, one line per case and mode out: "ok <normal form>", "rej <reason>" or
# "exc <type> <message>" (a decoder fault: the test fails on it).
RUNNER = r"""
import sys, struct
sys.path.insert(0, "firmware")
from gerbang import cbor, cose
from gerbang.reasons import CLAIMS, Reject


def norm(v):
    t = type(v)
    if v is True:
        return "T"
    if v is False:
        return "F"
    if v is None:
        return "N"
    if t is int:
        return "i%d" % v
    if t is bytes or t is memoryview:
        return "b" + bytes(v).hex()
    if t is str:
        return "t" + v.encode().hex()
    if t is float:
        return "fnan" if v != v else "f" + struct.pack(">d", v).hex()
    if t is list:
        return "[" + ",".join(norm(x) for x in v) + "]"
    if t is dict:
        return "{" + ",".join(sorted(norm(k) + ":" + norm(x) for k, x in v.items())) + "}"
    if isinstance(v, cbor.Tag):
        return "g%d(%s)" % (v.tag, norm(v.value))
    if isinstance(v, cbor.Simple):
        return "s%d" % v.value
    return "?" + repr(t)


out = sys.stdout
with open(sys.argv[1]) as f:
    for line in f:
        kind, hx = line.split()
        data = bytes.fromhex(hx[1:])
        for views in (False, True):
            buf = memoryview(data) if views else data
            try:
                if kind == "c":
                    v = norm(cbor.loads(buf, CLAIMS, views))
                else:
                    v = cose.decode(buf, views).kid.hex()
                out.write("ok %s\n" % v)
            except Reject as e:
                if e.args[0] == "CBOR decoder fault":  # cbor.loads' safety net: a bug
                    out.write("exc fault %d\n" % e.reason)
                else:
                    out.write("rej %d\n" % e.reason)
            except Exception as e:
                out.write("exc %s %s\n" % (type(e).__name__, e))
"""


def norm(v: object) -> str:
    """The host value in the runner's normal form (cbor2 types mapped to the door's)."""
    if v is True:
        return "T"
    if v is False:
        return "F"
    if v is None:
        return "N"
    if v is cbor2.undefined:
        return "s23"
    if isinstance(v, cbor2.CBORSimpleValue):
        return f"s{v.value}"
    if type(v) is int:
        return f"i{v}"
    if isinstance(v, bytes):
        return "b" + v.hex()
    if isinstance(v, str):
        return "t" + v.encode().hex()
    if isinstance(v, float):
        return "fnan" if v != v else "f" + struct.pack(">d", v).hex()
    if isinstance(v, list):
        return "[" + ",".join(norm(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(sorted(norm(k) + ":" + norm(x) for k, x in v.items())) + "}"
    if isinstance(v, cbor2.CBORTag):
        return f"g{v.tag}({norm(v.value)})"
    return f"?{type(v)!r}"


# --- generated values, written out with every legal and several illegal encodings ---

def _head(major: int, n: int, rng: random.Random) -> bytes:
    if rng.random() < 0.15:  # a longer argument than needed: well-formed, not deterministic
        widths = [w for w in (1, 2, 4, 8) if n < 1 << (8 * w)]
        w = rng.choice(widths)
        return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[w]]) + n.to_bytes(w, "big")
    if n < 24:
        return bytes([major << 5 | n])
    for ai, w in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * w):
            return bytes([major << 5 | ai]) + n.to_bytes(w, "big")
    raise ValueError(n)


_TEXT = ["", "a", "GB/balai-kota", "über", "\u00ff\u0100", "\u07ff\u0800", "\ud7ff\ue000",
         "\uffff", "\U00010000", "\U0010ffff", "日本", "\x00", "\x7f"]
_BAD_UTF8 = [b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
             b"\xed\xbf\xbf", b"\xf0\x80\x80\x80", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
             b"\xff", b"\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3\x28"]
_INTS = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63, 2**64 - 1]


def _value(rng: random.Random, depth: int) -> bytes:
    r = rng.random()
    if depth > 18:
        r = rng.random() * 0.5  # leaves only
    if r < 0.12:
        n = rng.choice(_INTS) if rng.random() < 0.5 else rng.randrange(0, 1000)
        return _head(rng.choice((0, 1)), n, rng)
    if r < 0.2:
        b = rng.randbytes(rng.choice((0, 1, 5, 16, 30)))
        return _head(2, len(b), rng) + b
    if r < 0.3:
        if rng.random() < 0.15:
            b = bytes(rng.choice(_TEXT), "utf-8") + rng.choice(_BAD_UTF8) + b"z" * rng.randrange(2)
        else:
            b = rng.choice(_TEXT).encode()
        return _head(3, len(b), rng) + b
    if r < 0.36:
        return rng.choice([b"\xf4", b"\xf5", b"\xf6", b"\xf7", b"\xe0", b"\xf3", b"\xf8\x20",
                           b"\xf8\xff", b"\xf8\x10", b"\xf9\x3c\x00", b"\xf9\x7e\x00",
                           b"\xf9\xfc\x00", b"\xfa\x3f\x80\x00\x00", b"\xfa\x7f\xc0\x00\x00",
                           b"\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00", b"\xfb" + rng.randbytes(8)])
    if r < 0.45:
        return _head(6, rng.choice([1, 2, 18, 24, 55799, 2**32]), rng) + _value(rng, depth + 1)
    if r < 0.5:  # an indefinite-length item (refused by the profile)
        kind = rng.choice((2, 3, 4, 5))
        inner = b""
        for _ in range(rng.randrange(3)):
            if kind == 2:
                b = rng.randbytes(2)
                inner += _head(2, 2, rng) + b
            elif kind == 3:
                inner += b"\x61a"
            elif kind == 4:
                inner += _value(rng, depth + 1)
            else:
                inner += _key(rng, depth) + _value(rng, depth + 1)
        return bytes([kind << 5 | 31]) + inner + b"\xff"
    if r < 0.72:
        n = rng.randrange(4)
        return _head(4, n, rng) + b"".join(_value(rng, depth + 1) for _ in range(n))
    n = rng.randrange(4)
    keys = [_key(rng, depth) for _ in range(n)]
    if n and rng.random() < 0.1:
        keys[-1] = keys[0]  # a duplicate key
    return _head(5, n, rng) + b"".join(k + _value(rng, depth + 1) for k in keys)


def _key(rng: random.Random, depth: int) -> bytes:
    r = rng.random()
    if r < 0.5:
        return _head(0, rng.choice((1, 4, 7, 255, 65536)), rng)
    if r < 0.6:
        return _head(1, rng.choice((0, 7, 65536)), rng)
    if r < 0.75:
        return b"\x61" + bytes([rng.choice(b"14az")])
    if r < 0.85:
        return b"\x41" + bytes([rng.choice(b"\x01\x04")])
    # what Python takes for 1, 4 or 0 although CBOR does not: refused by the profile
    return rng.choice([b"\xf5", b"\xf4", b"\xf6", b"\xf7", b"\xf9\x3c\x00", b"\xf9\x44\x00",
                       b"\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00", b"\xc1\x01", b"\x81\x01",
                       b"\xa0", b"\xe1", b"\x5f\x41\x01\xff", b"\x7f\x61\x31\xff"])


def _mutate(rng: random.Random, b: bytes) -> bytes:
    b = bytearray(b)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            b.insert(i, rng.randrange(256))
        elif op == 2 and b:
            del b[min(i, len(b) - 1)]
        elif op == 3:
            b = b[:i]
        elif op == 4:
            b.insert(i, rng.choice((0x5F, 0x7F, 0x9F, 0xBF, 0xFF, 0xF5, 0xF9, 0x1C, 0xF8)))
        elif op == 5 and b:
            b[min(i, len(b) - 1)] = rng.choice((0x5F, 0x7F, 0x9F, 0xBF, 0xF5, 0xF4, 0xC0, 0x80))
        else:
            b += rng.randbytes(rng.randrange(1, 4))
    return bytes(b)


def _cbor_cases(rng: random.Random) -> list[bytes]:
    cases = []
    for _ in range(2500):
        v = _value(rng, 0)
        cases.append(v)
        if rng.random() < 0.6:
            cases.append(_mutate(rng, v))
    for _ in range(400):  # random bytes
        cases.append(rng.randbytes(rng.randrange(0, 12)))
    # deep nesting around the cap (16)
    for d in (15, 16, 17, 18, 40):
        cases += [b"\x81" * d + b"\x00", b"\xa1\x01" * d + b"\x00", b"\xc1" * d + b"\x00"]
    return cases


_KID = b"\x48" + bytes(range(8))


def _cose_cases(rng: random.Random) -> list[bytes]:
    labels = [b"\x01", b"\x04", b"\xf5", b"\xf4", b"\xf9\x3c\x00", b"\xf9\x44\x00", b"\x61\x31",
              b"\x41\x01", b"\xc1\x01", b"\x02", b"\x21", b"\x18\x01", b"\xfb\x3f\xf0" + bytes(6)]
    values = [b"\x27", _KID, b"\x26", b"\x48" + bytes(7), b"\x39\x00\x07", b"\x40"]
    out = []
    for _ in range(600):
        n = rng.choice((1, 2, 2, 2, 3))
        if rng.random() < 0.3:
            body = b"\x01\x27\x04" + _KID  # the good entries, perhaps plus one
            hdr = bytes([0xA0 | (2 + (n == 3))]) + body
            if n == 3:
                hdr += rng.choice(labels) + rng.choice(values)
        else:
            hdr = bytes([0xA0 | n]) + b"".join(rng.choice(labels) + rng.choice(values)
                                               for _ in range(n))
        prot = _head(2, len(hdr), random.Random(0)) + hdr
        out.append(b"\xd2\x84" + prot + b"\xa0\x41\x00\x58\x40" + bytes(64))
    out.append(b"\xd2\x84\x4d\xa2\x01\x27\x04" + _KID + b"\xa0\x41\x00\x58\x40" + bytes(64))
    return out


def _host(kind: str, data: bytes) -> str:
    try:
        if kind == "c":
            return "ok " + norm(strict_cbor.loads(data, Reason.CLAIMS))
        return "ok " + decode_sign1(data).kid.hex()
    except ProtocolError as e:
        return f"rej {int(e.reason)}"


def _door_vs_host(tmp_path, cases: list[tuple[str, bytes]]) -> dict[str, int]:
    """Run the cases through the door's decoders under MicroPython (both modes) in one process;
    -> the host's verdict counts. Fails on any door fault and on any disagreement."""
    with open(tmp_path / "cases.txt", "w") as f:
        for kind, data in cases:
            f.write(f"{kind} x{data.hex()}\n")
    (tmp_path / "runner.py").write_text(RUNNER)
    proc = subprocess.run([MICROPYTHON, "-X", "heapsize=4M", str(tmp_path / "runner.py"),
                           str(tmp_path / "cases.txt")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 * len(cases)
    faults, differ, seen = [], [], {"ok": 0, "rej": 0}
    for i, (kind, data) in enumerate(cases):
        want = _host(kind, data)
        seen[want.split()[0]] += 1
        for mode, got in zip(("copy", "view"), lines[2 * i:2 * i + 2], strict=True):
            if got.startswith("exc"):
                faults.append((data.hex(), mode, got))
            elif got != want:  # the value, or the reason (CLAIMS: the one the caller passed)
                differ.append((data.hex(), mode, got, want))
    assert not faults, f"{len(faults)} decoder faults (not Reject), e.g. {faults[:5]}"
    assert not differ, f"{len(differ)} of {len(cases)} differ, e.g. {differ[:5]}"
    print("host verdicts:", seen, "cases:", len(cases))
    return seen


def test_door_decoder_agrees_with_host_reference(tmp_path) -> None:
    rng = random.Random(SEED)
    cases = [("c", b) for b in _cbor_cases(rng)] + [("k", b) for b in _cose_cases(rng)]
    seen = _door_vs_host(tmp_path, cases)
    # the cases reach both verdicts in quantity, not just early refusals
    assert seen["ok"] > 800 and seen["rej"] > 800, seen


# --- hypothesis: values drawn by its strategies (derandomized: the same cases every run),
# encoded by cbor2, then the encoding, a cut of it or a flipped byte; plus COSE headers with
# drawn label types. Examples are collected first, then decided in one MicroPython run. ---

_hyp_leaf = (st.integers(-(2**64), 2**64 - 1) | st.booleans() | st.none()
         | st.floats(allow_nan=True) | st.text(max_size=20) | st.binary(max_size=20))
_hyp_value = st.recursive(
    _hyp_leaf,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.integers(-30, 30) | st.text(max_size=6) | st.binary(max_size=4),
                      inner, max_size=5),
    max_leaves=20)
_hyp_label = (st.integers(-10, 10) | st.booleans() | st.floats(-2, 2) | st.text(max_size=3)
          | st.binary(max_size=3) | st.none())


def _hypothesis_cases() -> list[tuple[str, bytes]]:
    cases: list[tuple[str, bytes]] = []

    @settings(max_examples=1500, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(_hyp_value, st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 255))
    def value(v: object, how: int, where: int, byte: int) -> None:
        b = cbor2.dumps(v)
        if how == 1:
            b = b[: where % (len(b) + 1)]  # cut short
        elif how == 2:
            i = where % len(b)
            b = b[:i] + bytes([byte]) + b[i + 1:]  # one byte changed
        cases.append(("c", b))

    @settings(max_examples=400, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(_hyp_label, st.integers(-10, 10) | st.binary(max_size=9), max_size=3))
    def header(h: dict) -> None:
        try:
            protected = cbor2.dumps(h)
        except (TypeError, ValueError):
            return
        cases.append(("k", cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"x", bytes(64)]))))

    value()
    header()
    return cases


def test_door_decoder_agrees_with_host_on_hypothesis_values(tmp_path) -> None:
    cases = _hypothesis_cases()
    assert len(cases) > 1500
    seen = _door_vs_host(tmp_path, cases)
    assert seen["ok"] > 300 and seen["rej"] > 300, seen
