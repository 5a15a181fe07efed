"""Request input helpers shared by every JSON endpoint: the body as a JSON object, typed
fields with ranges, query integers, 32-byte keys. Each failure is a 400 with a code."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import request

from .errors import bad_request


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 (bad_json / not an object)."""
    if not request.is_json:
        raise bad_request("send a JSON object with Content-Type: application/json", "bad_json")
    data = request.get_json(silent=True)
    if data is None:
        raise bad_request("the body is not valid JSON", "bad_json")
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object", "bad_json")
    return data


def get_int(data: dict[str, Any], name: str, lo: int, hi: int, default: Any = ...) -> int:
    if name not in data:
        if default is ...:
            raise bad_request(f"missing field {name!r}", "missing_field")
        return default
    v = data[name]
    if type(v) is not int:
        raise bad_request(f"{name!r} must be an integer", "bad_field")
    if not lo <= v <= hi:
        raise bad_request(f"{name!r} must be {lo}..{hi}", "bad_field")
    return v


def get_str(data: dict[str, Any], name: str, max_len: int, default: Any = ...,
            pattern: re.Pattern | None = None) -> str:
    if name not in data:
        if default is ...:
            raise bad_request(f"missing field {name!r}", "missing_field")
        return default
    v = data[name]
    if not isinstance(v, str) or not 0 < len(v) <= max_len:
        raise bad_request(f"{name!r} must be a string of 1..{max_len} characters", "bad_field")
    if pattern is not None and not pattern.match(v):
        raise bad_request(f"{name!r} has an invalid format", "bad_field")
    return v


def query_int(name: str, lo: int = 0, hi: int = 2**63 - 1) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", raw):
        raise bad_request(f"query parameter {name!r} must be an integer", "bad_query")
    v = int(raw)
    if not lo <= v <= hi:
        raise bad_request(f"query parameter {name!r} must be {lo}..{hi}", "bad_query")
    return v


def decode_key(raw: Any, name: str = "public_key") -> bytes:
    """32 raw bytes from hex (64 digits) or base64 text."""
    if not isinstance(raw, str):
        raise bad_request(f"{name!r} must be a hex or base64 string", "bad_field")
    out = b""
    if re.fullmatch(r"[0-9a-fA-F]*", raw) and len(raw) % 2 == 0:
        out = bytes.fromhex(raw)
    else:
        try:
            out = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f"{name!r} is neither hex nor base64", "bad_field") from None
    if len(out) != 32:
        raise bad_request(f"{name!r} must be 32 bytes (got {len(out)})", "bad_key_length")
    return out
