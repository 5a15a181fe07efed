"""The certificate QR text: "GB1:" + base45(zlib(COSE_Sign1)), docs/PROTOCOL.md §2."""

import zlib

from . import base45
from .errors import ProtocolError, Reason

PREFIX = "GB1:"
MAX_TEXT = 600        # characters of QR text the door reads at most
MAX_INFLATED = 1024   # bytes of COSE_Sign1 the door inflates at most
WBITS = 10            # 1 KiB window: the door's inflate RAM is 2**wbits + ~1.3 KB


def compress(cose: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, WBITS)
    return c.compress(cose) + c.flush()


def encode_qr(cose: bytes) -> str:
    if len(cose) > MAX_INFLATED:
        raise ValueError(f"COSE_Sign1 of {len(cose)} bytes is over the {MAX_INFLATED}-byte cap")
    text = PREFIX + base45.encode(compress(cose))
    if len(text) > MAX_TEXT:
        raise ValueError(f"QR text of {len(text)} characters is over the {MAX_TEXT} cap")
    return text


def inflate(data: bytes) -> bytes:
    """Strict zlib: CM 8, window <= 1 KiB, no preset dictionary, Adler-32 checked, no trailing
    bytes, at most MAX_INFLATED bytes out (a zlib bomb stops there)."""
    if len(data) < 6:
        raise ProtocolError(Reason.INFLATE, "too short for a zlib stream")
    cmf, flg = data[0], data[1]
    if cmf & 0x0F != 8 or (cmf << 8 | flg) % 31:
        raise ProtocolError(Reason.INFLATE, "bad zlib header")
    if cmf >> 4 > WBITS - 8:
        raise ProtocolError(Reason.INFLATE, f"window of 2**{(cmf >> 4) + 8} bytes is over 1 KiB")
    if flg & 0x20:
        raise ProtocolError(Reason.INFLATE, "preset dictionary not allowed")
    d = zlib.decompressobj(WBITS)
    try:
        out = d.decompress(data, MAX_INFLATED + 1)
    except zlib.error as e:
        raise ProtocolError(Reason.INFLATE, f"bad deflate data ({e})") from None
    if len(out) > MAX_INFLATED:
        raise ProtocolError(Reason.INFLATE, f"inflates to over {MAX_INFLATED} bytes")
    if not d.eof:
        raise ProtocolError(Reason.INFLATE, "truncated zlib stream")
    if d.unused_data:
        raise ProtocolError(Reason.INFLATE, "bytes after the end of the zlib stream")
    return out


def decode_qr(text: str) -> bytes:
    """QR text -> COSE_Sign1 bytes (not yet verified)."""
    if not isinstance(text, str) or not text:
        raise ProtocolError(Reason.PREFIX, "empty or not text")
    if len(text) > MAX_TEXT:
        raise ProtocolError(Reason.TOO_LONG, f"{len(text)} characters is over {MAX_TEXT}")
    if not text.startswith(PREFIX):
        raise ProtocolError(Reason.PREFIX, f"does not start with {PREFIX}")
    return inflate(base45.decode(text[len(PREFIX):]))
