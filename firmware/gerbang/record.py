"""The 32-byte scan log record of docs/PROTOCOL.md section 5 (little-endian, CRC-32 at the end).

    0 seq u32 | 4 time u32 | 8 decision u8 | 9 reason u8 | 10 clock u8 | 11 flags u8
    12 kid 8 bytes | 20 subject tag 8 bytes | 28 CRC-32 (binascii.crc32) of bytes 0..27

pack_into() writes into a caller's buffer (allocated once), so logging a scan allocates nothing.
"""

import struct
from binascii import crc32

from micropython import const

SIZE = const(32)
_BODY = const(28)
_HEAD = "<IIBBBB"  # seq, time, decision, reason, clock, flags
_ZERO8 = b"\x00" * 8


def pack_into(buf, seq, time, decision, reason, clock, flags, kid=None, tag=None, off=0):
    """Write one record at buf[off:off+32]. kid/tag: 8 bytes, or None for zeros (unknown)."""
    if not 0 < seq <= 0xFFFFFFFF or not 0 <= time <= 0xFFFFFFFF:
        raise ValueError("seq/time")
    struct.pack_into(_HEAD, buf, off, seq, time, decision, reason, clock, flags)
    kid = _ZERO8 if kid is None else kid
    tag = _ZERO8 if tag is None else tag
    if len(kid) != 8 or len(tag) != 8:
        raise ValueError("kid/tag")
    buf[off + 12:off + 20] = kid
    buf[off + 20:off + 28] = tag
    mv = memoryview(buf)
    struct.pack_into("<I", buf, off + _BODY, crc32(mv[off:off + _BODY]) & 0xFFFFFFFF)


def pack(seq, time, decision, reason, clock, flags, kid=None, tag=None):
    buf = bytearray(SIZE)
    pack_into(buf, seq, time, decision, reason, clock, flags, kid, tag)
    return bytes(buf)


def valid(buf, off=0):
    """True when buf[off:off+32] carries a correct CRC (cheap check used by the log's scans)."""
    mv = memoryview(buf)
    if len(mv) < off + SIZE:
        return False
    return crc32(mv[off:off + _BODY]) & 0xFFFFFFFF == struct.unpack_from("<I", buf, off + _BODY)[0]


def seq_of(buf, off=0):
    return struct.unpack_from("<I", buf, off)[0]


def time_of(buf, off=0):
    return struct.unpack_from("<I", buf, off + 4)[0]


def unpack(buf, off=0):
    """-> (seq, time, decision, reason, clock, flags, kid, tag); ValueError on a bad CRC or length."""
    if not valid(buf, off):
        raise ValueError("record crc")
    seq, time, decision, reason, clock, flags = struct.unpack_from(_HEAD, buf, off)
    if seq == 0:
        raise ValueError("record seq")
    return (seq, time, decision, reason, clock, flags,
            bytes(buf[off + 12:off + 20]), bytes(buf[off + 20:off + 28]))
