"""Zone-bit frames against the examples printed in the GM65 manual."""

from fwtest import check
from gerbang import zonebit


def test_crc_matches_manual_read_example():
    # GM65 manual: read register 0x000A -> 7E 00 07 01 00 0A 01 EE 8A
    check(zonebit.read_cmd(0x000A) == bytes([0x7E, 0, 7, 1, 0, 0x0A, 1, 0xEE, 0x8A]))


def test_write_without_check_uses_abcd():
    f = zonebit.write_cmd(0x0002, b"\x01", check=False)
    check(f == bytes([0x7E, 0, 8, 1, 0, 2, 1, 0xAB, 0xCD]))


def test_reply_ack_matches_manual():
    # Write acknowledged: 02 00 00 01 00 33 31
    check(zonebit.reply(b"\x00") == bytes([2, 0, 0, 1, 0, 0x33, 0x31]))


def test_parse_reply_complete_partial_and_bad():
    f = zonebit.reply(b"\xd6")
    st, d0, dn = zonebit.parse_reply(f)
    check(st == len(f) and f[d0] == 0xD6 and dn == 1)
    for cut in range(len(f)):
        check(zonebit.parse_reply(f[:cut])[0] == zonebit.NEED_MORE)
    bad = bytearray(f)
    bad[-1] ^= 1
    check(zonebit.parse_reply(bad)[0] == zonebit.BAD_CRC)
    check(zonebit.parse_reply(b"GB1:")[0] == zonebit.NOT_REPLY)
    check(zonebit.parse_reply(b"\x02\x01")[0] == zonebit.NOT_REPLY)


def test_parse_command_roundtrip_and_crc_error():
    f = zonebit.write_cmd(zonebit.REG_SAME_DELAY, b"\x8f")
    st, kind, addr, d0, n = zonebit.parse_command(f)
    check(st == len(f) and kind == zonebit.T_WRITE and addr == 0x13 and f[d0] == 0x8F and n == 1)
    bad = bytearray(f)
    bad[6] = 0x10
    check(zonebit.parse_command(bad)[0] == zonebit.BAD_CRC)
    nock = zonebit.write_cmd(0x13, b"\x10", check=False)
    check(zonebit.parse_command(nock)[0] == len(nock))
    check(zonebit.parse_command(f[:5])[0] == zonebit.NEED_MORE)


def test_save_frame():
    f = zonebit.save_cmd()
    check(f[:7] == bytes([0x7E, 0, 9, 1, 0, 0, 0]))
    check(f == bytes([0x7E, 0, 9, 1, 0, 0, 0, 0xDE, 0xC8]))
