"""The scanner emulator answers zone-bit commands like a GM65 and sends codes as asked."""

import os
import pty
import select
import time
import tty

from gerbang_dev import scanner_emulator as se


def _pair():
    m, s = pty.openpty()
    tty.setraw(s)
    return m, os.ttyname(s), s


def _read(fd, want, timeout=2.0):
    out = b""
    end = time.time() + timeout
    while len(out) < want and time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            out += os.read(fd, 4096)
    return out


def test_crc_and_frames_match_the_gm65_manual():
    assert se.command(se.T_READ, 0x000A, b"\x01") == bytes.fromhex("7E000701000A01EE8A")
    assert se.reply(b"\x00") == bytes.fromhex("02000001003331")


def test_answers_read_write_and_ignores_bad_crc():
    m, path, s = _pair()
    em = se.ScannerEmulator(path)
    try:
        os.write(m, se.command(se.T_READ, 0x0000, b"\x01"))
        assert _read(m, 7) == se.reply(b"\xd4")
        os.write(m, se.command(se.T_WRITE, 0x0013, b"\x8f"))
        assert _read(m, 7) == se.reply(b"\x00")
        assert em.registers[0x13] == 0x8F
        bad = bytearray(se.command(se.T_WRITE, 0x0000, b"\x02"))
        bad[-1] ^= 1
        os.write(m, bytes(bad))
        assert _read(m, 1, 0.3) == b""
        assert em.bad_frames == 1 and em.registers[0] == 0xD4
        os.write(m, se.command(se.T_WRITE, 0x0000, b"\x02", check=False))  # AB CD: no check
        assert _read(m, 7) == se.reply(b"\x00") and em.registers[0] == 2
    finally:
        em.close()
        os.close(m)
        os.close(s)


def test_sends_split_duplicated_and_corrupted_codes():
    m, path, s = _pair()
    em = se.ScannerEmulator(path, seed=7)
    try:
        em.send_code("GB1:ABC", split=3, delay=0.01, duplicate=2)
        assert _read(m, 16) == b"GB1:ABC\rGB1:ABC\r"
        sent = em.send_code("GB1:XYZW", corrupt=2)
        got = _read(m, len(sent))
        assert got == sent and got != b"GB1:XYZW\r" and got.endswith(b"\r")
        assert any(b < 0x20 or b == 0x7F for b in got[:-1])
        assert em.uart_seconds(240) == 0.25
        t0 = time.time()
        em.baud = 9600
        em.send(b"x" * 96)
        assert time.time() - t0 >= 0.09
        assert len(_read(m, 96)) == 96
    finally:
        em.close()
        os.close(m)
        os.close(s)


def _line(tmp_path, rate):
    p = tmp_path / "uart_baud"
    p.write_text(str(rate))
    return p


def test_baud_write_acked_at_old_rate_then_switches_and_mismatch_garbles(tmp_path):
    m, path, s = _pair()
    line = _line(tmp_path, 9600)
    em = se.ScannerEmulator(path, line=str(line))
    try:
        assert em.rate == 9600
        os.write(m, se.command(se.T_WRITE, se.REG_BAUD, b"\x1a\x00"))
        assert _read(m, 7) == se.reply(b"\x00")  # the ACK, still at 9600
        time.sleep(0.05)
        assert em.rate == 115200 and em.garbled == 0
        # the board's UART still at 9600: a read is garbage to the module, no answer
        os.write(m, se.command(se.T_READ, se.REG_BAUD, b"\x02"))
        assert _read(m, 1, 0.3) == b""
        assert em.garbled > 0
        line.write_text("115200")  # the board re-inits its UART
        os.write(m, se.command(se.T_READ, se.REG_BAUD, b"\x02"))
        assert _read(m, 8) == se.reply(b"\x1a\x00")
        em.send_code("GB1:OK")
        assert _read(m, 7) == b"GB1:OK\r"
        line.write_text("9600")
        em.send_code("GB1:OK")
        got = _read(m, 7)
        assert len(got) == 7 and b"\r" not in got and b"GB1" not in got
    finally:
        em.close()
        os.close(m)
        os.close(s)


def test_module_that_does_not_switch_acks_and_stays(tmp_path):
    m, path, s = _pair()
    line = _line(tmp_path, 9600)
    em = se.ScannerEmulator(path, line=str(line), switches=False)
    try:
        os.write(m, se.command(se.T_WRITE, se.REG_BAUD, b"\x1a\x00"))
        assert _read(m, 7) == se.reply(b"\x00")
        time.sleep(0.05)
        assert em.rate == 9600
        os.write(m, se.command(se.T_READ, se.REG_BAUD, b"\x02"))
        assert _read(m, 8) == se.reply(b"\x39\x01")
    finally:
        em.close()
        os.close(m)
        os.close(s)
