"""Driver for the GM60/GM65/GM805/GM861 QR modules over a UART (pure: the UART is passed in).

The UART object needs any(), readinto(buf) -> n or None, write(b), and init(baudrate=n) for a
rate change at start (machine.UART, the virtual board's pty UART, or a test fake); baud is the
rate it was opened at (the module's factory 9600), kept up to date by configure(). Time comes from the ticks_ms/ticks_diff functions passed in.

Reading: a code is the bytes up to "\r". Memory is fixed at construction (max_len bytes for the
code, 64 bytes of receive chunk), so long or garbage input never
grows memory: an over-long frame is discarded up to its "\r" and reported once as TOO_LONG;
a frame with control bytes (line noise) is dropped; a frame left half-sent for longer than
char_timeout_ms is dropped (the next byte starts a new frame: resynchronisation). Zone-bit reply
frames (02 00 00 len data crc) that arrive late among codes are stripped. The module repeats a
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
_ST_ACK = const(1)  # inside a stray reply frame
_ST_SKIP = const(2)  # discarding up to "\r" (overflow or noise)
_RX = const(64)
_HMASK = const(0x3FFFFFFF)  # keep the running hash a small int on the ESP32 (31-bit)


def _diff(a, b):
    return a - b


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
        self._ack_pos = 0
        self._ack_left = 0
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
        return self._n > 0 or self._st != _ST_DATA or self._rpos < self._rend

    def poll(self):
        """Consume what the UART has. Returns the length n > 0 of a new code (in self.code[:n]),
        TOO_LONG once per over-long frame, or 0 when there is nothing new."""
        now = self.ticks_ms()
        if (self._n or self._st != _ST_DATA) and \
                self.ticks_diff(now, self._t_rx) > self.char_timeout_ms:
            self.timeouts += 1
            self._reset()
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
            st = self._st
            if st == _ST_ACK:
                self._ack_pos += 1
                p = self._ack_pos
                if p <= 2:
                    if b != 0:  # not a reply after all: treat the frame as noise
                        self._st = _ST_SKIP
                        self._bad = True
                elif p == 3:
                    self._ack_left = b + 2
                else:
                    self._ack_left -= 1
                    if self._ack_left <= 0:
                        self.acks += 1
                        self._st = _ST_DATA
                continue
            if b == _CR:
                r = self._complete(now)
                self._reset()
                if r:
                    self._rpos = i
                    return r
                continue
            if st == _ST_SKIP:
                continue
            if b == _STX:
                self._st = _ST_ACK
                self._ack_pos = 0
                continue
            if b == _LF and self._n == 0:
                continue  # CR LF suffix setting
            if b < 0x20 or b == 0x7F:
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
