"""The 32-byte scan log record (docs/PROTOCOL.md §5)."""

import struct
import zlib
from dataclasses import dataclass

from .errors import ProtocolError, Reason

RECORD_SIZE = 32
_LAYOUT = struct.Struct("<IIBBBB8s8s")  # 28 bytes, then CRC-32 of them
CLOCK_SYNCED, CLOCK_FLOOR, CLOCK_UNKNOWN = 0, 1, 2
FLAG_CLOCK_ALLOWED = 1


@dataclass(frozen=True)
class ScanRecord:
    seq: int
    time: int
    decision: int
    reason: int
    clock: int = CLOCK_SYNCED
    flags: int = 0
    kid: bytes = bytes(8)
    tag: bytes = bytes(8)

    def pack(self) -> bytes:
        body = _LAYOUT.pack(self.seq, self.time, self.decision, self.reason, self.clock,
                            self.flags, self.kid, self.tag)
        return body + struct.pack("<I", zlib.crc32(body))

    @classmethod
    def unpack(cls, data: bytes) -> "ScanRecord":
        if len(data) != RECORD_SIZE:
            raise ProtocolError(Reason.CBOR, f"a record is {RECORD_SIZE} bytes, not {len(data)}")
        body = bytes(data[:28])
        if struct.unpack("<I", data[28:])[0] != zlib.crc32(body):
            raise ProtocolError(Reason.CBOR, "record CRC does not match")
        seq, time, decision, reason, clock, flags, kid, tag = _LAYOUT.unpack(body)
        if decision > 1 or clock > CLOCK_UNKNOWN:
            raise ProtocolError(Reason.CBOR, "record decision or clock quality out of range")
        return cls(seq, time, decision, reason, clock, flags, kid, tag)


_RECORD = struct.Struct("<IIBBBB8s8sI")
_FIELDS = struct.Struct(_LAYOUT.format + "4x")  # the fields, CRC skipped


def record_fields(data: bytes) -> list[tuple[int, int, int, int, int, int, bytes, bytes]]:
    """(seq, time, decision, reason, clock, flags, kid, tag) of every record, in one struct
    pass and without checks (the server runs `check_records` on them first)."""
    return list(_FIELDS.iter_unpack(data))


def check_records(data: bytes, first_seq: int) -> None:
    """What `split_records` plus a consecutive-seq check would accept, in one struct pass
    (the server checks 500 records a request; objects would cost it twice the time)."""
    if len(data) % RECORD_SIZE:
        raise ProtocolError(Reason.CBOR, "records are whole 32-byte units")
    mv = memoryview(data)
    rows = list(_RECORD.iter_unpack(data))
    for i, (_s, _t, decision, _r, clock, _f, _k, _g, crc) in enumerate(rows):
        if zlib.crc32(mv[i * RECORD_SIZE:i * RECORD_SIZE + 28]) != crc:
            raise ProtocolError(Reason.CBOR, "record CRC does not match")
        if decision > 1 or clock > CLOCK_UNKNOWN:
            raise ProtocolError(Reason.CBOR, "record decision or clock quality out of range")
    for i, row in enumerate(rows):
        if row[0] != first_seq + i:
            raise ProtocolError(Reason.CBOR, f"record {i} has seq {row[0]}, not {first_seq + i}")


def split_records(data: bytes) -> list[ScanRecord]:
    if len(data) % RECORD_SIZE:
        raise ProtocolError(Reason.CBOR, "records are whole 32-byte units")
    return [ScanRecord.unpack(data[i:i + RECORD_SIZE]) for i in range(0, len(data), RECORD_SIZE)]
