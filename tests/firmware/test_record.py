"""The 32-byte scan log record (docs/PROTOCOL.md section 5): layout, CRC, rejection."""

import struct
from binascii import crc32, unhexlify

from fwtest import check, golden_stream, raises
from gerbang import record

KID = bytes(range(1, 9))
TAG = bytes(range(0xA0, 0xA8))
# built independently with CPython struct.pack + zlib.crc32 from the section 5 table
GOLDEN = unhexlify("0403020100f15365010001010102030405060708a0a1a2a3a4a5a6a7366ea3bc")


def test_golden_bytes():
    check(record.pack(0x01020304, 1700000000, 1, 0, 1, 1, KID, TAG) == GOLDEN)


def test_field_offsets_follow_the_spec():
    r = record.pack(7, 1234567, 0, 13, 2, 1, KID, TAG)
    check(len(r) == record.SIZE == 32)
    check(struct.unpack("<I", r[0:4])[0] == 7)
    check(struct.unpack("<I", r[4:8])[0] == 1234567)
    check(r[8] == 0 and r[9] == 13 and r[10] == 2 and r[11] == 1)
    check(r[12:20] == KID and r[20:28] == TAG)
    check(struct.unpack("<I", r[28:32])[0] == crc32(r[:28]) & 0xFFFFFFFF)


def test_unpack_round_trip():
    got = record.unpack(GOLDEN)
    check(got == (0x01020304, 1700000000, 1, 0, 1, 1, KID, TAG))


def test_unknown_kid_and_tag_are_zeros():
    got = record.unpack(record.pack(1, 0, 0, 6, 2, 0))
    check(got[6] == bytes(8) and got[7] == bytes(8))


def test_every_flipped_byte_is_rejected():
    for i in range(32):
        bad = bytearray(GOLDEN)
        bad[i] ^= 0x10
        raises(ValueError, record.unpack, bad)
        check(not record.valid(bad))


def test_short_buffer_is_rejected():
    raises(ValueError, record.unpack, GOLDEN[:31])


def test_pack_into_at_offset_allocates_nothing_new():
    buf = bytearray(96)
    record.pack_into(buf, 0x01020304, 1700000000, 1, 0, 1, 1, KID, TAG, off=32)
    check(bytes(buf[32:64]) == GOLDEN)
    check(buf[:32] == bytearray(32) and buf[64:] == bytearray(32))
    check(record.unpack(buf, 32)[0] == 0x01020304 and record.seq_of(buf, 32) == 0x01020304)


def test_bad_arguments_raise_value_error():
    buf = bytearray(32)
    raises(ValueError, record.pack_into, buf, 0, 1, 1, 0, 0, 0)  # seq starts at 1
    raises(ValueError, record.pack_into, buf, 1 << 32, 1, 1, 0, 0, 0)
    raises(ValueError, record.pack_into, buf, 1, -1, 1, 0, 0, 0)
    raises(ValueError, record.pack_into, buf, 1, 1, 1, 0, 0, 0, b"short")
    raises(ValueError, record.pack_into, buf, 1, 1, 1, 0, 0, 0, KID, b"x" * 9)


def test_zero_seq_with_valid_crc_is_rejected():
    body = bytes(28)
    r = body + struct.pack("<I", crc32(body) & 0xFFFFFFFF)
    raises(ValueError, record.unpack, r)


def _golden_records():
    # the golden sync request's records (tests/vectors/golden_fw.txt, made by `gerbang vectors`
    # with the host's gerbang_protocol.record); tests/protocol holds the host to the same bytes
    v = {}
    for key, val in golden_stream(("now", "issuer_pub", "sync_request_records")):
        v[key] = val
    return int(v["now"]), unhexlify(v["issuer_pub"]), unhexlify(v["sync_request_records"])


def test_golden_sync_records_are_the_hosts_bytes():
    """The device's record layout and the host's give the same bytes: the golden records'
    fields (as gerbang_dev/vectors.py states them: seq 1..3, time now - 300 + seq, seq 2 an
    EXPIRED deny, kid of the issuer key, tag SHA-256 of the vectors' seed text) packed here."""
    import hashlib

    from gerbang import reasons
    from gerbang.cose import kid_of

    now, issuer, recs = _golden_records()
    check(len(recs) == 3 * record.SIZE)
    for seq in (1, 2, 3):
        tag = hashlib.sha256(b"gerbang golden vectors: tag %d" % seq).digest()[:8]
        deny = seq == 2
        mine = record.pack(seq, now - 300 + seq, 0 if deny else 1,
                           reasons.EXPIRED if deny else reasons.OK, 0, 0, kid_of(issuer), tag)
        check(mine == recs[32 * (seq - 1):32 * seq], "record %d" % seq)
        check(record.unpack(recs, 32 * (seq - 1)) == (seq, now - 300 + seq, 0 if deny else 1,
                                                      11 if deny else 0, 0, 0, kid_of(issuer),
                                                      tag))
