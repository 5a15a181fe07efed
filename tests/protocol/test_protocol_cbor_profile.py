"""The host reference holds to Gerbang's CBOR profile exactly as the door's decoder does: the
shared cases of tests/vectors/cbor_profile.txt (also run by tests/firmware/test_cbor.py)."""

import os

import cbor2
import pytest

from gerbang_protocol import ProtocolError, Reason, decode_claims, decode_sign1
from gerbang_protocol import cbor as strict_cbor

CASES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "vectors", "cbor_profile.txt")


def _cases() -> list[tuple[bytes, bool, str]]:
    out = []
    with open(CASES) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                hx, verdict, note = (line.split(None, 2) + [""])[:3]
                out.append((bytes.fromhex(hx), verdict == "ok", note))
    return out


@pytest.mark.parametrize("data,ok,note", _cases(), ids=lambda v: v.hex() if isinstance(v, bytes) else None)
def test_profile_case(data: bytes, ok: bool, note: str) -> None:
    for reason in (Reason.CBOR, Reason.COSE):
        if ok:
            assert strict_cbor.loads(data, reason) == cbor2.loads(data), note
        else:
            with pytest.raises(ProtocolError) as e:
                strict_cbor.loads(data, reason)
            assert e.value.reason == reason, note


def test_indefinite_lengths_refused_with_a_reason() -> None:
    for hx in ("5f4361626343646566ff", "7f6161626263ff", "9f01ff", "bf0102ff", "825f41ffff"):
        with pytest.raises(ProtocolError, match="indefinite"):
            strict_cbor.loads(bytes.fromhex(hx))


_KID = "48" + "00" * 8
# the same headers as tests/firmware/test_cose.py: Python's 1 == True == 1.0 is not CBOR's
MISTYPED_LABELS = [
    "a2f527" + "04" + _KID,  # {true: -8, 4: kid}
    "a2f93c0027" + "04" + _KID,  # {1.0 (half): -8, 4: kid}
    "a2fb3ff000000000000027" + "04" + _KID,  # {1.0 (double): -8, 4: kid}
    "a20127" + "f94400" + _KID,  # {1: -8, 4.0: kid}
    "a2f527" + "fb4010000000000000" + _KID,  # {true: -8, 4.0: kid}
    "a2613127" + "6134" + _KID,  # {"1": -8, "4": kid}
    "a2413127" + "04" + _KID,  # {h'31': -8, 4: kid}
    "a2c10127" + "04" + _KID,  # {1(1): -8, 4: kid}
    "a3012704" + _KID + "f501",  # {1: -8, 4: kid, true: 1}
    "a3012704" + _KID + "6131" + "01",  # {1: -8, 4: kid, "1": 1}
]


def _cose(protected: bytes) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"\xa0", bytes(64)]))


@pytest.mark.parametrize("header", MISTYPED_LABELS)
def test_protected_header_labels_by_cbor_type(header: str) -> None:
    with pytest.raises(ProtocolError) as e:
        decode_sign1(_cose(bytes.fromhex(header)))
    assert e.value.reason == Reason.COSE


def test_good_header_still_decodes() -> None:
    assert decode_sign1(_cose(bytes.fromhex("a2012704" + _KID))).kid == bytes(8)


def test_claims_and_sync_maps_read_by_cbor_type() -> None:
    # {1: "GB/x", ..., true: ...}: a bool label beside the integer ones is refused, not merged
    # or taken for claim 1
    claims = bytes.fromhex("a6" "0164" "47422f78" "061a6a000000" "051a6a000000" "041a6b000000"
                           "0750" + "00" * 16 + "f56178")
    with pytest.raises(ProtocolError) as e:
        decode_claims(claims)
    assert e.value.reason == Reason.CLAIMS
