"""The host reference holds to Gerbang's CBOR profile exactly as the door's decoder does: the
shared cases of tests/vectors/cbor_profile.txt (also run by tests/firmware/test_cbor.py)."""

import os

import cbor2
import pytest

from gerbang_protocol import ProtocolError, Reason
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
