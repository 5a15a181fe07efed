"""Bounded zlib inflate for certificate QR codes (docs/PROTOCOL.md §2).

Window at most 1 KiB (so the door inflates in ~2.3 KB of RAM) and at most MAX_OUT bytes out:
anything larger is a zlib bomb. MicroPython has `deflate.DeflateIO`; CPython (host tests)
falls back to `zlib.decompressobj`, so both run the same checks."""

import io

from micropython import const

from gerbang.reasons import INFLATE, Reject

MAX_OUT = const(1024)
_WBITS = const(10)

try:
    import deflate
except ImportError:  # CPython
    deflate = None
    import zlib

# One output buffer for the module (+1 byte to see an overflow); inflate() returns a view of it.
_BUF = bytearray(MAX_OUT + 1)


def check_header(data):
    """RFC 1950 header: deflate method, window <= 1 KiB, FCHECK, no preset dictionary."""
    if len(data) < 6:  # 2 header + at least 1 deflate byte + 4 Adler-32 bytes... be lenient: 6
        raise Reject(INFLATE, "zlib stream too short")
    cmf = data[0]
    flg = data[1]
    if cmf & 0x0F != 8:
        raise Reject(INFLATE, "not deflate")
    if cmf >> 4 > _WBITS - 8:
        raise Reject(INFLATE, "zlib window over 1 KiB")
    if (cmf << 8 | flg) % 31:
        raise Reject(INFLATE, "bad zlib FCHECK")
    if flg & 0x20:
        raise Reject(INFLATE, "zlib preset dictionary")


def inflate(data):
    """Inflate a whole zlib stream; returns a memoryview of a shared buffer that stays valid
    until the next call (copy it to keep it). Any error, a checksum mismatch, trailing bytes
    or more than MAX_OUT bytes out raise Reject(INFLATE)."""
    check_header(data)
    buf = _BUF
    if deflate is None:
        return memoryview(_inflate_cpython(data))
    src = io.BytesIO(data)
    n = 0
    try:
        d = deflate.DeflateIO(src, deflate.ZLIB, _WBITS)
        mv = memoryview(buf)
        while n <= MAX_OUT:
            r = d.readinto(mv[n:])
            if not r:
                break
            n += r
        # DeflateIO checks the Adler-32 when it reaches the end of the stream
    except (OSError, EOFError, ValueError) as e:
        raise Reject(INFLATE, "bad zlib stream") from e
    if n > MAX_OUT:
        raise Reject(INFLATE, "inflated data over 1024 bytes")
    if src.tell() != len(data):  # DeflateIO reads no further than the stream's end
        raise Reject(INFLATE, "bytes after the zlib stream")
    return memoryview(buf)[:n]


def _inflate_cpython(data):
    try:
        d = zlib.decompressobj(_WBITS)
        out = d.decompress(bytes(data), MAX_OUT + 1)
    except zlib.error as e:
        raise Reject(INFLATE, "bad zlib stream") from e
    if len(out) > MAX_OUT:
        raise Reject(INFLATE, "inflated data over 1024 bytes")
    if not d.eof:
        raise Reject(INFLATE, "truncated zlib stream")
    if d.unused_data:
        raise Reject(INFLATE, "bytes after the zlib stream")
    return out
