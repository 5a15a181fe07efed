"""Strict CBOR decoding on top of cbor2: no trailing bytes, no duplicate keys, capped depth and
size, and tags kept as raw `CBORTag` objects (cbor2 would otherwise turn tag 1 into a datetime
or tag 2 into an int, which the door's decoder does not do). Gerbang's profile (PROTOCOL.md,
"CBOR profile") is checked on the bytes first, as the door's decoder does: definite lengths
only, map keys only integers, text or byte strings."""

from io import BytesIO
from typing import Any

import cbor2

from .errors import ProtocolError, Reason

MAX_DEPTH = 16

# cbor2 decodes these tags into Python objects; keep every one as a plain CBORTag instead.
_BUILTIN_TAGS = (0, 1, 2, 3, 4, 5, 24, 25, 28, 29, 30, 35, 36, 37, 100, 256, 258, 260, 261,
                 262, 263, 1004, 55799)
_RAW_TAGS = {t: (lambda value, immutable, t=t: cbor2.CBORTag(t, value)) for t in _BUILTIN_TAGS}


def loads(data: bytes, reason: Reason = Reason.CBOR, max_size: int = 1 << 20) -> Any:
    """Decode exactly one well-formed CBOR item; anything else raises ProtocolError(reason)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(reason, "not bytes")
    if len(data) > max_size:
        raise ProtocolError(reason, f"{len(data)} bytes is over the {max_size}-byte cap")
    data = bytes(data)
    _check_profile(data, reason)
    fp = BytesIO(data)
    try:
        value = cbor2.CBORDecoder(
            fp, semantic_decoders=_RAW_TAGS, max_depth=MAX_DEPTH, allow_duplicate_keys=False,
        ).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise ProtocolError(reason, f"not well-formed CBOR ({e})") from None
    if fp.tell() != len(data):
        raise ProtocolError(reason, f"{len(data) - fp.tell()} trailing bytes")
    return _thaw(value)


class _Malformed(Exception):
    """Not well-formed: the profile walk stops and cbor2 names the fault."""


def _check_profile(b: bytes, reason: Reason) -> None:
    """Walk every head without building values, as the door's decoder reads them: refuse an
    indefinite length anywhere (cbor2 would join the chunks), a map key that is not an integer,
    text or byte string (cbor2 would let Python merge 1, 1.0 and true, or take a tuple), and
    nesting deeper than MAX_DEPTH."""
    try:
        _walk(b, 0, 0, reason)
    except (_Malformed, IndexError):
        pass


def _walk(b: bytes, p: int, depth: int, reason: Reason) -> int:
    """-> the offset after the item at b[p]."""
    if depth > MAX_DEPTH:
        raise ProtocolError(reason, "CBOR nested too deep")
    major, ai = b[p] >> 5, b[p] & 0x1F
    p += 1
    if ai == 31 and 2 <= major <= 5:
        raise ProtocolError(reason, "indefinite length (the profile takes definite lengths only)")
    if ai > 27:
        raise _Malformed
    arg = ai
    if ai >= 24:
        w = 1 << (ai - 24)
        if p + w > len(b):
            raise _Malformed
        arg = int.from_bytes(b[p:p + w], "big")
        p += w
    if major in (2, 3):
        return p + arg
    if major == 6:
        return _walk(b, p, depth + 1, reason)
    if major in (4, 5):
        if arg > len(b) - p:
            raise _Malformed  # more items announced than bytes left
        for _ in range(arg):
            if major == 5:
                if b[p] >> 5 > 3:
                    raise ProtocolError(reason, "map key must be an integer, text or byte string")
                p = _walk(b, p, depth + 1, reason)
            p = _walk(b, p, depth + 1, reason)
    return p


def _thaw(v: Any) -> Any:
    """cbor2 decodes a tag's content as immutable (tuple, frozendict): give plain list/dict back."""
    if isinstance(v, cbor2.CBORTag):
        return cbor2.CBORTag(v.tag, _thaw(v.value))
    if isinstance(v, list | tuple):
        return [_thaw(x) for x in v]
    if isinstance(v, dict) or type(v).__name__ == "frozendict":
        return {k: _thaw(x) for k, x in v.items()}
    return v


def dumps(value: Any) -> bytes:
    """Deterministic encoding (RFC 8949 §4.2): shortest forms, definite lengths, sorted keys."""
    return cbor2.dumps(value, canonical=True)
