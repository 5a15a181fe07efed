"""Driver for the GM60/GM65/GM805/GM861 QR modules over a UART (pure: the UART is passed in).

The UART object needs any(), readinto(buf) -> n or None, write(b), and init(baudrate=n) for a
rate change at start (machine.UART, the virtual board's pty UART, or a test fake); baud is the
rate it was opened at (the module's factory 9600), kept up to date by configure(). Time comes from the ticks_ms/ticks_diff functions passed in.

Reading (docs/FIRMWARE.md, "Framing"): a code is a line, the bytes up to "\r", of printable
ASCII (0x20-0x7E; a Gerbang code is Base45 text). Memory is fixed at construction (max_len bytes
for the code, 64 bytes of receive chunk, 8 for a reply), so long or garbage input never grows
memory: an over-long line is discarded up to its "\r" and reported once as TOO_LONG; a line
with any other byte (control bytes, 0x7F, 0x80-0xFF: line noise, a rate mismatch) is dropped
at its "\r"; a line left half-sent for longer than char_timeout_ms is dropped (the next byte
starts a new line: resynchronisation). A zone-bit reply that arrives late (02 00 00 n data crc,
n = 1 or 2: what the driver's own commands get back) is recognised only at the start of a line
and only whole, with a good CRC; it is followed beside the line framing, never instead of it,
so bytes that only look like a reply (noise) are framed as a line like any others and can never
swallow the next "\r" or the code after it. The module repeats a
code while it stays in view (continuous mode): the same code again within debounce_ms of its
last sighting is dropped, and every sighting extends the window. "The same" = same length and
same 30-bit running hash (no second copy of the code in RAM); a collision can only drop a scan,
never allow one, and the person simply scans again.
"""

from micropython import const

TOO_LONG = const(-1)

_CR = const(0x0D)
_LF = const(0x0A)
_STX = const(0x02)
_ST_DATA = const(0)
_ST_SKIP = const(2)  # discarding up to "\r" (overflow or noise)
_REPLY_MAX = const(2)  # longest reply data the driver asks for (one or two register bytes)
_RX = const(64)
_HMASK = const(0x3FFFFFFF)  # keep the running hash a small int on the ESP32 (31-bit)


def _diff(a, b):
    return a - b


def _reply_crc_ok(a, n):
    # CRC16-CCITT/XMODEM over 00 <n> <data> (as gerbang.zonebit, which is not resident)
    crc = 0
    for i in range(1, 4 + n):
        crc ^= a[i] << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return a[4 + n] == crc >> 8 and a[5 + n] == crc & 0xFF


class Scanner:
    def __init__(self, uart, ticks_ms, ticks_diff=None, max_len=600, char_timeout_ms=100,
                 debounce_ms=1500, sleep_ms=None, baud=9600):
        self.uart = uart
        self.baud = baud
        self.ticks_ms = ticks_ms
        self.ticks_diff = ticks_diff or _diff
        self.sleep_ms = sleep_ms
        self.max_len = max_len
        self.char_timeout_ms = char_timeout_ms
        self.debounce_ms = debounce_ms
        self.buf = bytearray(max_len)
        self.code = memoryview(self.buf)
        self._last_n = 0
        self._last_h = 0
        self._last_t = 0
        self._rx = bytearray(_RX)
        self._rpos = 0
        self._rend = 0
        self._n = 0
        self._h = 0
        self._st = _ST_DATA
        self._bad = False
        self._too_long = False
        self._ack = bytearray(6 + _REPLY_MAX)  # a reply being received (beside the line)
        self._ack_pos = 0  # its bytes so far; 0 = none
        self._ack_cr = False  # a "\r" inside it ended a (noise) line
        self._t_rx = 0
        # Counters for health reports and tests.
        self.codes = 0
        self.repeats = 0
        self.noise = 0
        self.timeouts = 0
        self.acks = 0
        self.overflows = 0
        self.configured = False

    def _reset(self):
        self._n = 0
        self._h = 0
        self._st = _ST_DATA
        self._bad = False
        self._too_long = False

    def pending(self):
        """True while a frame is half received (the app should not sleep then)."""
        return self._n > 0 or self._st != _ST_DATA or self._ack_pos > 0 or \
            self._rpos < self._rend

    def poll(self):
        """Consume what the UART has. Returns the length n > 0 of a new code (in self.code[:n]),
        TOO_LONG once per over-long frame, or 0 when there is nothing new."""
        now = self.ticks_ms()
        if (self._n or self._st != _ST_DATA or self._ack_pos) and \
                self.ticks_diff(now, self._t_rx) > self.char_timeout_ms:
            self.timeouts += 1
            self._reset()
            self._ack_pos = 0
        while True:
            if self._rpos >= self._rend:
                if not self.uart.any():
                    return 0
                got = self.uart.readinto(self._rx)
                if not got:
                    return 0
                self._rpos = 0
                self._rend = got
                self._t_rx = now
            r = self._frame(now)
            if r:
                return r

    def _frame(self, now):
        rx = self._rx
        buf = self.buf
        max_len = self.max_len
        i = self._rpos
        end = self._rend
        while i < end:
            b = rx[i]
            i += 1
            ap = self._ack_pos
            if ap:
                # a reply being received: its bytes go to the line framing below as well,
                # unless this one completes it (then the line so far was the reply)
                ack = self._ack
                ack[ap] = b
                ap += 1
                if (ap < 4 and b) or (ap == 4 and not 0 < b <= _REPLY_MAX):
                    ap = 0  # not a reply: the bytes stay a (noise) line
                elif ap > 4 and ap == 6 + ack[3]:
                    ap = 0
                    if _reply_crc_ok(ack, ack[3]):
                        self._ack_pos = 0
                        self.acks += 1
                        if self._ack_cr:
                            self.noise -= 1  # that "noise line" was the reply's own "\r"
                        self._reset()
                        continue
                self._ack_pos = ap
            if b == _CR:
                if ap:
                    self._ack_cr = True
                r = self._complete(now)
                self._reset()
                if r:
                    self._rpos = i
                    return r
                continue
            if self._st == _ST_SKIP:
                continue
            if b == _STX and not ap and self._n == 0 and not self._bad:
                # a late reply can only start a line (the module never splits its own output)
                self._ack[0] = b
                self._ack_pos = 1
                self._ack_cr = False
            if b == _LF and self._n == 0:
                continue  # CR LF suffix setting
            if b < 0x20 or b > 0x7E:  # control bytes, DEL, 0x80-0xFF: noise, never a code
                self._bad = True
                self._st = _ST_SKIP
                continue
            if self._n >= max_len:
                self._too_long = True
                self._st = _ST_SKIP
                continue
            buf[self._n] = b
            self._n += 1
            self._h = ((self._h * 31) + b) & _HMASK
        self._rpos = i
        return 0

    def _complete(self, now):
        if self._too_long:
            self.overflows += 1
            return TOO_LONG
        if self._bad:
            self.noise += 1
            return 0
        n = self._n
        if n == 0:
            return 0
        if n == self._last_n and self._h == self._last_h and \
                self.ticks_diff(now, self._last_t) < self.debounce_ms:
            self._last_t = now
            self.repeats += 1
            return 0
        self._last_n = n
        self._last_h = self._h
        self._last_t = now
        self.codes += 1
        return n

    def forget(self):
        """Forget the last code, so the same certificate is decided again (tests, menus)."""
        self._last_n = 0

    # --- configuration (start-up only): the code lives in zonebit, imported on demand, so
    # the app can drop it from RAM afterwards (sys.modules.pop("gerbang.zonebit")).

    def transact(self, frame, retries=3, timeout_ms=300):
        from gerbang import zonebit

        return zonebit.transact(self, frame, retries, timeout_ms)

    def configure(self, mode=2, same_delay_ms=1500, save=False, check=True, retries=3, baud=0):
        """Set mode (2 = continuous), same-code delay, QR only, serial output, and (baud > 0)
        switch the line to baud, falling back to the old rate if the module does not answer
        there (self.baud = the rate in use). Returns the number of steps that failed (0 = all
        acknowledged)."""
        from gerbang import zonebit

        failed = zonebit.configure(self, mode, same_delay_ms, save, check, retries, baud)
        self.configured = failed == 0
        return failed
