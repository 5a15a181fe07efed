"""Request input helpers shared by every endpoint: the URL converters for ids, the body as a
JSON object, typed fields with ranges, query parameters, 32-byte keys. Each failure is a 400
with a code; an id that cannot name a row matches no route (404).

Nothing out of a column's range or with a character the database refuses (PostgreSQL text
cannot hold NUL) reaches a query: ids in paths go through ``<id:...>`` / ``<device:...>``,
text through :func:`get_str` / :func:`query_str`, integers through ranges.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import request
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from gerbang_protocol.device_id import DEVICE_ID, DEVICE_ID_PATTERN

from .errors import bad_request

INT32_MAX = 2**31 - 1  # Integer columns (every id but a scan record's) on PostgreSQL
INT64_MAX = 2**63 - 1  # BigInteger columns (times, seqs, counters, serials)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def digits_at_most(n: int) -> str:
    """A regular expression for the decimal numbers 0..n (leading zeros allowed up to n's
    length): the URL rule itself refuses a bigger id, whatever the method."""
    top = str(n)
    parts = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, ch in enumerate(top):
        lo, d = (1 if i == 0 and len(top) > 1 else 0), int(ch)
        if d - 1 >= lo:
            rest = len(top) - i - 1
            parts.append(top[:i] + f"[{lo}-{d - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(top)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id in a path, 0..2^31-1 in ASCII digits; any other value matches
    no route (404), so an id beyond the column's range never reaches a query."""

    regex = digits_at_most(INT32_MAX)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=0, max=INT32_MAX)


class DeviceIdConverter(BaseConverter):
    """``<device:name>``: a device id (gerbang_protocol.device_id); anything else is 404."""

    regex = DEVICE_ID_PATTERN


CONVERTERS = {"id": IdConverter, "device": DeviceIdConverter}


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 (bad_json / not an object)."""
    if not request.is_json:
        raise bad_request("send a JSON object with Content-Type: application/json", "bad_json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads of deep nesting; silent only covers ValueError
        raise bad_request("the body nests too deeply", "bad_json") from None
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
    if _CONTROL.search(v):
        raise bad_request(f"{name!r} must not contain control characters", "bad_field")
    if pattern is not None and not pattern.fullmatch(v):
        raise bad_request(f"{name!r} has an invalid format", "bad_field")
    return v


def query_str(name: str, allowed: tuple[str, ...] | None = None) -> str | None:
    """A text query parameter (None when absent or empty), one of ``allowed`` if given."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if allowed is not None and raw not in allowed:
        raise bad_request(f"query parameter {name!r} must be one of {', '.join(allowed)}",
                          "bad_query")
    if _CONTROL.search(raw):
        raise bad_request(f"query parameter {name!r} must not contain control characters",
                          "bad_query")
    return raw


def query_device() -> str | None:
    """The ``device`` filter: a device id or absent."""
    raw = query_str("device")
    if raw is not None and not DEVICE_ID.fullmatch(raw):
        raise bad_request("query parameter 'device' is not a device id", "bad_query")
    return raw


def query_cursor(name: str, column_max: int) -> int:
    """An exclusive id cursor (``after``), 0 when absent; beyond the column's range it is
    clamped there (no id is above it: the answer is empty)."""
    return min(query_int(name, 0) or 0, column_max)


def query_int(name: str, lo: int = 0, hi: int = INT64_MAX) -> int | None:
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
