"""GM60/GM65/GM805/GM861 "zone bit" serial command frames (pure: no hardware).

Command:  7E 00 <type> <len> <addrH> <addrL> <data: len bytes> <CRC16 hi lo | AB CD>
Reply:    02 00 00 <len> <data: len bytes> <CRC16 hi lo>
CRC16-CCITT (XMODEM: poly 0x1021, init 0, no reflection) over type..data for a command and
over 00 <len> <data> for a reply. "AB CD" in place of the CRC tells the module not to check.
A write or save is acknowledged with the one data byte 00.
"""

from micropython import const

HEAD = const(0x7E)
REPLY = const(0x02)
T_READ = const(0x07)
T_WRITE = const(0x08)
T_SAVE = const(0x09)

# Registers (GM65 manual v1.x; the GM60/805/861 keep the same map for these).
REG_MODE = const(0x0000)  # bits 1..0: 00 manual, 01 command, 10 continuous, 11 induction
REG_OUTPUT = const(0x000D)  # bits 1..0: 00 serial (TTL/RS232), 01 USB keyboard, 11 USB serial
REG_SAME_DELAY = const(0x0013)  # bit 7 enable, bits 6..0 delay in 100 ms units
REG_BAUD = const(0x002A)  # 2 bytes, low byte first: 39 01 = 9600, 1A 00 = 115200
REG_ALL_CODES = const(0x002C)  # 00 disable all symbologies, 01 enable all, 02 defaults
REG_QR = const(0x003F)  # bit 0: QR enabled

MODE_MANUAL = const(0)
MODE_COMMAND = const(1)
MODE_CONTINUOUS = const(2)
MODE_INDUCTION = const(3)

# Baud register values: GM65 manual appendix ("set baud rate to 9600": 7E 00 08 02 00 2A 39 01)
# and specter-diy's GM65 driver (src/hosts/qr.py: BAUD_RATE = 1A 00 for 115200). Other rates are
# not used (their values are not checked against a module).
_DIV_9600 = const(0x0139)
_DIV_115200 = const(0x001A)

# Reply parse results (negative = no complete reply yet or not a reply).
NEED_MORE = const(-1)
NOT_REPLY = const(-2)
BAD_CRC = const(-3)


def crc16(buf, start=0, end=-1, crc=0):
    """CRC16-CCITT/XMODEM of buf[start:end] (end -1 = to the end), no allocation."""
    if end < 0:
        end = len(buf)
    for i in range(start, end):
        crc ^= buf[i] << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


def command(kind, addr, data, check=True):
    """One command frame: kind is T_READ/T_WRITE/T_SAVE, data bytes (for a read: the count)."""
    n = len(data)
    f = bytearray(8 + n)
    f[0] = HEAD
    f[1] = 0
    f[2] = kind
    f[3] = n
    f[4] = (addr >> 8) & 0xFF
    f[5] = addr & 0xFF
    f[6:6 + n] = data
    if check:
        c = crc16(f, 2, 6 + n)
        f[6 + n] = c >> 8
        f[7 + n] = c & 0xFF
    else:
        f[6 + n] = 0xAB
        f[7 + n] = 0xCD
    return bytes(f)


def read_cmd(addr, count=1, check=True):
    return command(T_READ, addr, bytes((count,)), check)


def write_cmd(addr, data, check=True):
    return command(T_WRITE, addr, data, check)


def save_cmd(check=True):
    # Save the registers to the module's EEPROM (survives power-off).
    return command(T_SAVE, 0, b"\x00", check)


def reply(data):
    """A reply frame as the module sends it (used by tests and the host emulator)."""
    n = len(data)
    f = bytearray(6 + n)
    f[0] = REPLY
    f[3] = n
    f[4:4 + n] = data
    c = crc16(f, 1, 4 + n)
    f[4 + n] = c >> 8
    f[5 + n] = c & 0xFF
    return bytes(f)


def parse_reply(buf, start=0, end=-1):
    """Parse a reply starting at buf[start]. Returns (status, data_start, data_len):
    status > 0 is the frame length (complete, CRC good); else NEED_MORE, NOT_REPLY or BAD_CRC
    (for BAD_CRC data_len still tells how long the bad frame was)."""
    if end < 0:
        end = len(buf)
    avail = end - start
    if avail < 1:
        return NEED_MORE, 0, 0
    if buf[start] != REPLY:
        return NOT_REPLY, 0, 0
    for i in (1, 2):
        if avail <= i:
            return NEED_MORE, 0, 0
        if buf[start + i] != 0:
            return NOT_REPLY, 0, 0
    if avail < 4:
        return NEED_MORE, 0, 0
    n = buf[start + 3]
    total = 6 + n
    if avail < total:
        return NEED_MORE, 0, 0
    c = crc16(buf, start + 1, start + 4 + n)
    if buf[start + 4 + n] != c >> 8 or buf[start + 5 + n] != c & 0xFF:
        return BAD_CRC, start + 4, n
    return total, start + 4, n


def parse_command(buf, start=0, end=-1):
    """Parse a command frame (for the emulator and tests): (status, kind, addr, data_start, n).
    status > 0 = frame length; NEED_MORE; NOT_REPLY (not a command); BAD_CRC."""
    if end < 0:
        end = len(buf)
    avail = end - start
    if avail < 2:
        return NEED_MORE, 0, 0, 0, 0
    if buf[start] != HEAD or buf[start + 1] != 0:
        return NOT_REPLY, 0, 0, 0, 0
    if avail < 6:
        return NEED_MORE, 0, 0, 0, 0
    kind = buf[start + 2]
    n = buf[start + 3]
    addr = (buf[start + 4] << 8) | buf[start + 5]
    total = 8 + n
    if avail < total:
        return NEED_MORE, 0, 0, 0, 0
    hi = buf[start + 6 + n]
    lo = buf[start + 7 + n]
    if not (hi == 0xAB and lo == 0xCD):
        c = crc16(buf, start + 2, start + 6 + n)
        if hi != c >> 8 or lo != c & 0xFF:
            return BAD_CRC, kind, addr, start + 6, n
    return total, kind, addr, start + 6, n


# --- talking to the module (start-up only; the driver imports this module on demand) ---


def transact(sc, frame, retries=3, timeout_ms=300):
    """Send a command frame through scanner sc's UART; return the reply's data bytes, or None
    after the retries (no reply, bad CRC)."""
    uart = sc.uart
    rep = bytearray(72)
    mv = memoryview(rep)
    for _ in range(retries):
        uart.write(frame)
        t0 = sc.ticks_ms()
        n = 0
        while sc.ticks_diff(sc.ticks_ms(), t0) < timeout_ms:
            if not uart.any():
                if sc.sleep_ms:
                    sc.sleep_ms(2)
                continue
            got = uart.readinto(mv[n:])
            if not got:
                continue
            n += got
            # Drop anything before a reply start (a code scanned while starting up).
            s = 0
            while s < n and rep[s] != REPLY:
                s += 1
            if s:
                rep[0:n - s] = rep[s:n]
                n -= s
            st, d0, dn = parse_reply(rep, 0, n)
            if st > 0:
                return bytes(rep[d0:d0 + dn])
            if st == NEED_MORE and n < len(rep):
                continue
            break  # bad CRC, not a reply, or overfull: send again
    return None


def _write(sc, addr, value, check, retries):
    r = transact(sc, write_cmd(addr, bytes((value,)), check), retries)
    return r is not None and len(r) >= 1 and r[0] == 0


def _read(sc, addr, check, retries):
    r = transact(sc, read_cmd(addr, 1, check), retries)
    if r is None or len(r) < 1:
        return None
    return r[0]


def baud_value(baud):
    """The 0x002A register value for a rate, or None for a rate we do not set."""
    if baud == 9600:
        return _DIV_9600
    if baud == 115200:
        return _DIV_115200
    return None


def _rate(sc, baud):
    # re-init the board UART at baud (machine.UART.init keeps pins and buffers), drop input
    sc.uart.init(baudrate=baud)
    sc.baud = baud
    while sc.uart.any():
        if not sc.uart.readinto(sc._rx):
            break


def _answers(sc, check, retries):
    # a register read that comes back (CRC good) at the UART's current rate
    return _read(sc, REG_MODE, check, retries) is not None


def switch_baud(sc, baud, check=True, retries=3):
    """Move the module and the UART from sc.baud to baud: write 0x002A at the old rate, check
    the ACK, re-init the UART, read a register at the new rate. Without an ACK or without an
    answer at the new rate (module not switched, other model) the UART goes back to the old rate
    and is checked there. -> True when running at baud (the change is not saved: see save)."""
    old = sc.baud
    v = baud_value(baud)
    if v is None or baud == old:
        return baud == old
    r = transact(sc, write_cmd(REG_BAUD, bytes((v & 0xFF, v >> 8)), check), retries)
    if r is None or len(r) < 1 or r[0] != 0:
        return False  # not acknowledged: the module still talks at the old rate
    _rate(sc, baud)
    if _answers(sc, check, retries):
        return True
    _rate(sc, old)
    if not _answers(sc, check, 1):
        # acknowledged and silent at both rates: ask it back to the old rate from the new one
        _rate(sc, baud)
        v = baud_value(old)
        transact(sc, write_cmd(REG_BAUD, bytes((v & 0xFF, v >> 8)), check), 1)
        _rate(sc, old)
    return False


def configure(sc, mode=MODE_CONTINUOUS, same_delay_ms=1500, save=False, check=True, retries=3,
              baud=0):
    """Mode (other bits of the register kept), same-code delay, QR only, serial output, then
    (baud > 0) the line rate. A module left at baud by an earlier start (soft reset, saved
    setting) is found there. -> number of failed steps (a failed rate switch counts one)."""
    failed = 0
    v = _read(sc, REG_MODE, check, retries)
    if v is None and baud and baud != sc.baud and baud_value(baud) is not None and \
            hasattr(sc.uart, "init"):
        old = sc.baud
        _rate(sc, baud)  # still at the rate an earlier start chose?
        v = _read(sc, REG_MODE, check, retries)
        if v is None:
            _rate(sc, old)
    found = v is not None
    if v is None or not _write(sc, REG_MODE, (v & 0xFC) | mode, check, retries):
        failed += 1
    d = same_delay_ms // 100
    if d > 127:
        d = 127
    if not _write(sc, REG_SAME_DELAY, 0x80 | d, check, retries):
        failed += 1
    v = _read(sc, REG_OUTPUT, check, retries)
    if v is None or not _write(sc, REG_OUTPUT, v & 0xFC, check, retries):
        failed += 1
    if not _write(sc, REG_ALL_CODES, 0, check, retries):
        failed += 1
    if not _write(sc, REG_QR, 1, check, retries):
        failed += 1
    # (a UART without init() cannot change rate: it stays where it was opened; a silent module
    # is not asked: its timeouts would only bring the watchdog closer)
    if baud and baud != sc.baud and hasattr(sc.uart, "init") and \
            not (found and switch_baud(sc, baud, check, retries)):
        failed += 1
    if save and not failed and transact(sc, save_cmd(check), retries) is None:
        failed += 1
    return failed
