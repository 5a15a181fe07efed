"""Strict CBOR decoder conformance: RFC 8949 Appendix A, the 679 not-well-formed items, caps."""

from fwtest import GOLDEN, ROOT, SHARED_VECTORS, check, load_json, on_micropython, raises, skip
from gerbang import cbor, cbor_enc
from gerbang.cbor import Simple, Tag
from gerbang.reasons import CBOR, COSE, Reject

_INF = float("inf")
# Appendix A items given only as diagnostic notation, as our decoder's values.
_DIAG = {
    "Infinity": _INF,
    "-Infinity": -_INF,
    "undefined": cbor.UNDEFINED,
    "simple(16)": Simple(16),
    "simple(255)": Simple(255),
    "simple(32)": Simple(32),
    '0("2013-03-21T20:04:00Z")': Tag(0, "2013-03-21T20:04:00Z"),
    "1(1363896240)": Tag(1, 1363896240),
    "1(1363896240.5)": Tag(1, 1363896240.5),
    "23(h'01020304')": Tag(23, b"\x01\x02\x03\x04"),
    "24(h'6449455446')": Tag(24, b"dIETF"),
    '32("http://www.example.com")': Tag(32, "http://www.example.com"),
    "h''": b"",
    "h'01020304'": b"\x01\x02\x03\x04",
    "{1: 2, 3: 4}": {1: 2, 3: 4},
}


def _same(got, want):
    if isinstance(want, float) and isinstance(got, float):
        if want != want:
            return got != got
        if want in (_INF, -_INF) or want == 0:
            return got == want
        return abs(got - want) <= abs(want) * 1e-6  # ESP32 floats are single precision
    if isinstance(got, Tag) and got.tag in (2, 3) and isinstance(got.value, bytes):
        n = int.from_bytes(got.value, "big")  # bignums stay tags; compare their value
        got = n if got.tag == 2 else -1 - n
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return set(got) == set(want) and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, Tag):
        return got.tag == want.tag and _same(got.value, want.value)
    return got == want


def _appendix(name):
    n = 0
    for item in load_json(SHARED_VECTORS + "/cbor-test-vectors/" + name):
        data = bytes.fromhex(item["hex"])
        if item["hex"] == "f818":  # two-byte simple < 32: not well-formed under RFC 8949
            e = raises(Reject, cbor.loads, data)
            check(e.reason == CBOR)
            continue
        if not item["roundtrip"] and item["hex"][:2] not in ("fa", "fb"):
            # the 11 indefinite-length items: the profile takes definite lengths only
            e = raises(Reject, cbor.loads, data)
            check(e.reason == CBOR and "indefinite" in e.args[0], item["hex"])
            continue
        got = cbor.loads(data)
        if "decoded" in item:
            want = item["decoded"]
        elif item["diagnostic"] == "NaN":
            check(got != got, item["hex"])
            n += 1
            continue
        else:
            want = _DIAG[item["diagnostic"]]
        check(_same(got, want), "%s: %r != %r" % (item["hex"], got, want))
        n += 1
        # the encoder reproduces every deterministic item it can encode
        if item["roundtrip"] and not isinstance(got, (float, Simple)) and item["hex"][:2] not in ("c1", "f9", "fa", "fb"):
            check(cbor_enc.dumps(got) == data, "re-encode " + item["hex"])
    return n


def test_appendix_a():
    check(_appendix("appendix_a.json") == 70)  # 81 well-formed, 11 of them indefinite


def test_appendix_a_simple32_variant():
    check(_appendix("appendix_a_pr5_simple32.json") == 71)


def test_all_fail_vectors_are_rejected():
    n = 0
    with open(GOLDEN + "/cbor_fail.txt") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] == "#":
                continue
            e = raises(Reject, cbor.loads, bytes.fromhex(line))
            check(e.reason == CBOR, line)
            n += 1
    check(n == 679, "expected 679 items, got %d" % n)


def test_derived_fail_file_matches_source():
    if on_micropython():
        skip("host-side check (json of 679 items)")
    import sys

    sys.path.insert(0, ROOT)
    from gerbang_dev import derive_vectors

    with open(GOLDEN + "/cbor_fail.txt") as f:
        check(f.read() == derive_vectors.cbor_fail_text(), "run gerbang_dev/derive_vectors.py")


def test_trailing_bytes_and_truncation():
    check(cbor.loads(b"\x01") == 1)
    raises(Reject, cbor.loads, b"\x01\x00")
    raises(Reject, cbor.loads, b"")
    raises(Reject, cbor.loads, b"\x83\x01\x02")
    raises(Reject, cbor.loads, b"\x1a\x00\x00")


def test_lengths_beyond_input_rejected_before_allocating():
    # a 2**32-byte string or a 2**63-item array announced in a few bytes
    raises(Reject, cbor.loads, b"\x5a\xff\xff\xff\xff\x00")
    raises(Reject, cbor.loads, b"\x9b\x7f\xff\xff\xff\xff\xff\xff\xff\x00")
    raises(Reject, cbor.loads, b"\xa2\x01\x02\x03")  # 2 pairs need >= 4 bytes


def test_depth_cap():
    ok = b"\x81" * cbor.MAX_DEPTH + b"\x00"
    v = cbor.loads(ok)
    for _ in range(cbor.MAX_DEPTH):
        v = v[0]
    check(v == 0)
    raises(Reject, cbor.loads, b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00")
    raises(Reject, cbor.loads, b"\x9f" * 200 + b"\xff" * 200)


def test_map_keys():
    raises(Reject, cbor.loads, bytes.fromhex("a201020103"))  # duplicate key 1
    raises(Reject, cbor.loads, bytes.fromhex("a1810100"))  # array as key
    check(cbor.loads(bytes.fromhex("a2613102613202")) == {"1": 2, "2": 2})


def test_utf8_checked():
    raises(Reject, cbor.loads, b"\x62\xc3\x28")
    check(cbor.loads(b"\x62\xc3\xbc") == "\u00fc")
    # MicroPython's own decode is lax: these came back as '\x00', '\ud800' and '\U00110000'
    for h in ("62c080", "63eda080", "64f4908080", "61c3", "63f09f98"):
        for views in (False, True):
            e = raises(Reject, cbor.loads, memoryview(bytes.fromhex(h)), CBOR, views)
            check(e.args[0] == "invalid UTF-8", h)


def test_utf8_every_lead_byte():
    # every lead byte with every second byte (then continuation bytes), against the rule table
    for c in range(0x80, 0x100):
        for d in range(0x80, 0xC0):
            k = 1 if c < 0xE0 else 2 if c < 0xF0 else 3
            data = bytes((0x60 | (k + 1), c, d)) + b"\x80" * (k - 1)
            lo, hi = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF),
                      0xF4: (0x80, 0x8F)}.get(c, (0x80, 0xBF))
            want = 0xC2 <= c <= 0xF4 and lo <= d <= hi
            check(_decide(data, False) == want, "%02x %02x" % (c, d))


def _profile_cases():
    out = []
    with open(GOLDEN + "/cbor_profile.txt") as f:
        for line in f:
            line = line.strip()
            if line and line[0] != "#":
                parts = line.split(None, 2)
                out.append((bytes.fromhex(parts[0]), parts[1] == "ok", line))
    return out


def _decide(data, views, reason=CBOR):
    # every failure, in both modes, must be Reject with the caller's reason: anything else
    # (TypeError from a chunk join, ...) escapes and fails the test
    try:
        cbor.loads(memoryview(data) if views else data, reason, views)
    except Reject as e:
        check(e.reason == reason, "reason %r" % e.reason)
        return False
    return True


def test_profile_cases_in_both_modes():
    # tests/vectors/cbor_profile.txt: the same cases the host reference is held to
    n = 0
    for data, ok, line in _profile_cases():
        for views in (False, True):
            check(_decide(data, views) == ok, "%s (views=%r)" % (line, views))
            check(_decide(data, views, COSE) == ok, line)
        n += 1
    check(n >= 17, "only %d profile cases" % n)


def test_indefinite_lengths_refused_with_a_reason():
    for h in ("5f4361626343646566ff", "7f6161626263ff", "9f01ff", "bf0102ff", "5f5f4100ffff"):
        for views in (False, True):
            e = raises(Reject, cbor.loads, memoryview(bytes.fromhex(h)), CBOR, views)
            check("indefinite" in e.args[0], "%s: %s" % (h, e.args[0]))
    e = raises(Reject, cbor.loads, b"\xff")
    check("break" in e.args[0], e.args[0])


def test_reason_override():
    e = raises(Reject, cbor.loads, b"\xff", COSE)
    check(e.reason == COSE)


def test_decodes_from_memoryview():
    buf = bytearray(b"\x00\x43abc\x00")
    check(cbor.loads(memoryview(buf)[1:5]) == b"abc")


def test_encoder_deterministic():
    check(cbor_enc.dumps({4: b"k", 1: -8}) == bytes.fromhex("a201270441" + "6b"))
    check(cbor_enc.dumps(["Signature1", b"", b"", b""]) == bytes.fromhex("846a5369676e617475726531" + "404040"))
    check(cbor_enc.dumps(Tag(18, [])) == b"\xd2\x80")
    check(cbor_enc.dumps(-65537) == bytes.fromhex("3a00010000"))
    check(cbor_enc.dumps(2**64 - 1) == bytes.fromhex("1bffffffffffffffff"))


def test_decoder_fault_is_still_a_reject():
    # the safety net of loads(): a caller only ever has to catch Reject (5 is not a buffer)
    e = raises(Reject, cbor.loads, 5, COSE)
    check(e.reason == COSE and e.args[0] == "CBOR decoder fault")
