"""Base45 (RFC 9285) decoder conformance: RFC examples and kirei/python-base45 vectors."""

from fwtest import SHARED_VECTORS, check, load_json, raises
from gerbang import base45
from gerbang.reasons import BASE45, Reject


def test_rfc9285_examples():
    data = load_json(SHARED_VECTORS + "/base45/rfc9285_examples.json")
    items = data["vectors"]
    n = 0
    for item in items:
        enc = item["encoded"]
        dec = bytes.fromhex(item["decoded_hex"])
        check(bytes(base45.decode(enc)) == dec, enc)
        check(base45.encode(dec) == enc, enc)
        n += 1
    check(n >= 4, "expected the 4 RFC examples")


def test_kirei_valid_and_invalid():
    data = load_json(SHARED_VECTORS + "/base45/kirei_python_base45_vectors.json")
    for item in data["valid"]:
        dec = bytes.fromhex(item["decoded_hex"])
        check(bytes(base45.decode(item["encoded"])) == dec, item["encoded"])
        check(base45.encode(dec) == item["encoded"], item["encoded"])
    for item in data["invalid"]:
        e = raises(ValueError, base45.decode, item["encoded"])
        check(isinstance(e, Reject) and e.reason == BASE45, item["encoded"])
    check(len(data["valid"]) == 16 and len(data["invalid"]) == 7)


def test_strictness():
    raises(Reject, base45.decode, "A")  # length 1 mod 3
    raises(Reject, base45.decode, "GGW")  # 45**3 - 1 > 0xFFFF
    raises(Reject, base45.decode, "FGW0")  # ... and a leftover single char
    check(bytes(base45.decode("FGW")) == b"\xff\xff")
    raises(Reject, base45.decode, "5U")  # pair 5 + 45*30 = 1355 > 0xFF
    check(bytes(base45.decode("U5")) == b"\xff")  # 30 + 45*5 = 255
    raises(Reject, base45.decode, "ab")  # lower case is not base45
    raises(Reject, base45.decode, "A\r0")
    check(bytes(base45.decode(b"GB1:FGW", 4)) == b"\xff\xff")  # offset skips a prefix


def test_round_trip_all_byte_values():
    data = bytes(range(256))
    check(bytes(base45.decode(base45.encode(data))) == data)
    check(bytes(base45.decode(base45.encode(data[:-1]))) == data[:-1])
