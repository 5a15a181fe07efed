"""Strict field readers shared by the payload decoders: one place that says what a uint is."""

from typing import Any

from .errors import ProtocolError, Reason

U32 = 2**32 - 1


def uint(value: Any, name: str, reason: Reason, maximum: int = U32) -> int:
    # bool is an int subclass in Python; CBOR true/false is never a number here
    if type(value) is not int or not 0 <= value <= maximum:
        raise ProtocolError(reason, f"{name} must be an unsigned integer <= {maximum}")
    return value


def bstr(value: Any, name: str, reason: Reason, size: int | None = None, maximum: int = 1 << 20) -> bytes:
    if type(value) is not bytes:
        raise ProtocolError(reason, f"{name} must be a byte string")
    if size is not None and len(value) != size:
        raise ProtocolError(reason, f"{name} must be {size} bytes")
    if len(value) > maximum:
        raise ProtocolError(reason, f"{name} is over {maximum} bytes")
    return value


def tstr(value: Any, name: str, reason: Reason, maximum: int) -> str:
    if type(value) is not str or len(value) > maximum:
        raise ProtocolError(reason, f"{name} must be text of at most {maximum} characters")
    return value


def cbor_map(value: Any, name: str, reason: Reason) -> dict:
    if type(value) is not dict:
        raise ProtocolError(reason, f"{name} must be a map")
    # labels are looked up with ==, which is CBOR's equality only among these three kinds
    # (1 == 1.0 == True in Python); cbor.loads refuses any other key already
    if any(type(k) not in (int, str, bytes) for k in value):
        raise ProtocolError(reason, f"{name} labels must be integers, text or byte strings")
    return value


def require(m: dict, label: int, name: str, reason: Reason) -> Any:
    if label not in m:
        raise ProtocolError(reason, f"{name} ({label}) is missing")
    return m[label]
