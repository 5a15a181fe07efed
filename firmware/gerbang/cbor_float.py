"""CBOR floats (major 7, additional info 25-27) -> float, for gerbang.cbor's decoder. Imported
on the first float only: Gerbang's own data never holds one, so neither the scan path nor the
encoder needs this module resident."""

import struct


def float_of(b):
    """IEEE 754 half, single or double (2, 4 or 8 big-endian bytes) -> float."""
    if len(b) == 2:
        return _half(b[0] << 8 | b[1])
    return struct.unpack(">f" if len(b) == 4 else ">d", bytes(b))[0]


def _half(h):
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0:
        val = mant * 5.960464477539063e-08  # 2**-24
    elif exp != 31:
        val = (mant + 1024) * 2.0 ** (exp - 25)
    elif mant == 0:
        val = float("inf")
    else:
        val = float("nan")
    return -val if h & 0x8000 else val
