"""The virtual board: the MicroPython unix port as a door unit (same classes as board.esp32).

Hardware description: /host/board.json, written by gerbang_dev/virtual_board.py (the launcher), with
"scanner": pty path of the scanner UART, "events": file for GPIO/app events (JSON lines,
time-stamped), "rtc": file standing in for RTC memory, "clock_offset": seconds added to the
host clock. Flash: a littlefs2 image (512 x 4 KiB) mounted at "/" by the launcher's boot ROM
(gerbang_dev/virtual_board.py: rom.py); the board directory is mounted at "/host", the host's /dev at
"/dev". The REPL's cwd is "/", so `mpremote fs cp x :x` lands in the image, as on a real board.
"""

import gc
import json
import select
import time

from micropython import const

from gerbang import energy

_VTIME = const(5)
_VMIN = const(6)
RTC_SIZE = const(2048)  # RTC slow memory the ESP32 port gives to Python
EPOCH = const(0)  # unix port: time.time() counts from 1970 already (ESP32: 2000)


class UART:
    """Scanner UART on a pseudo-terminal (raw, non-blocking reads: VMIN=0, VTIME=0). A pty has
    no line rate, so the rate is written to the file `line` (the board's /host/uart_baud); the
    scanner emulator reads it and garbles bytes both ways while its rate differs, like a real
    line at mismatched rates."""

    def __init__(self, path, baudrate=9600, rxbuf=2048, line=None):
        import termios

        self._line = line
        self.init(baudrate)
        self._f = open(path, "r+b")
        fd = self._f.fileno()
        termios.setraw(fd)
        a = termios.tcgetattr(fd)
        a[6][_VTIME] = 0
        a[6][_VMIN] = 0
        termios.tcsetattr(fd, termios.TCSANOW, a)
        self._poll = select.poll()
        self._poll.register(self._f, select.POLLIN)

    def init(self, baudrate=9600):
        """Like machine.UART.init(baudrate=...): a new line rate (pins and buffers kept)."""
        self.baudrate = baudrate
        if self._line:
            with open(self._line, "w") as f:
                f.write(str(baudrate))

    def any(self):
        return 1 if self._poll.poll(0) else 0

    def readinto(self, buf):
        try:
            n = self._f.readinto(buf)
        except OSError:  # other end gone (emulator restarting): like an idle line
            return None
        return n or None

    def read(self, n=256):
        b = bytearray(n)
        got = self.readinto(b)
        return bytes(b[:got]) if got else None

    def write(self, data):
        return self._f.write(data)

    def wait(self, ms):
        """Block until a byte arrives or ms pass (the idle loop's sleep)."""
        return bool(self._poll.poll(ms))


class Events:
    """Time-stamped events a test can read: one JSON object per line, flushed at once."""

    def __init__(self, path):
        self._f = open(path, "a") if path else None

    def emit(self, kind, **fields):
        if self._f is None:
            return
        fields["ev"] = kind
        fields["ms"] = time.ticks_ms()
        fields["us"] = time.ticks_us()
        fields["ns"] = time.time_ns()  # host wall clock: comparable with the host tools
        self._f.write(json.dumps(fields) + "\n")  # one write: a reset between two split a line
        self._f.flush()


class Output:
    """A GPIO output (LED, buzzer, relay): each change is an event."""

    def __init__(self, name, events, active_high=True):
        self.name = name
        self._ev = events
        self._v = 0

    def value(self, v=None):
        if v is None:
            return self._v
        v = 1 if v else 0
        if v != self._v:
            self._v = v
            self._ev.emit("pin", pin=self.name, v=v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class Watchdog:
    """Counts feeds and reports an overdue feed as an event (the process is not reset)."""

    def __init__(self, timeout_ms, events):
        self.timeout_ms = timeout_ms
        self._ev = events
        self._t = time.ticks_ms()
        self.feeds = 0

    def feed(self):
        now = time.ticks_ms()
        late = time.ticks_diff(now, self._t)
        if late > self.timeout_ms:
            self._ev.emit("wdt_overdue", late_ms=late)
        self._t = now
        self.feeds += 1


class State:
    """RTC memory: survives a soft reset (process restart), lost on a power cycle (the
    launcher deletes the file)."""

    def __init__(self, path):
        self.path = path

    def load(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def save(self, data):
        if len(data) > RTC_SIZE:
            raise ValueError("RTC memory holds 2048 bytes")
        with open(self.path, "wb") as f:
            f.write(data)


class Clock:
    """Unix seconds from the host clock plus a settable offset (kept in the RTC file's
    neighbour, so it survives a soft reset like the ESP32 RTC)."""

    def __init__(self, offset=0, path=None):
        self.offset = offset
        self._path = path
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.ticks_add = time.ticks_add
        self.sleep_ms = time.sleep_ms
        if path:
            try:
                with open(path) as f:
                    self.offset = int(f.read())
            except (OSError, ValueError):
                pass

    def time(self):
        return int(time.time()) + EPOCH + self.offset

    def set_time(self, unix):
        self.offset = unix - int(time.time()) - EPOCH
        if self._path:
            with open(self._path, "w") as f:
                f.write(str(self.offset))



class Network:
    """Loopback network: up() always succeeds (the server runs on this host)."""

    def __init__(self, config):
        self._up = False
        self.server = config.get("server", "http://127.0.0.1:5000")

    def up(self, timeout_ms=10000):
        self._up = True
        return True

    def down(self):
        self._up = False

    def isconnected(self):
        return self._up


def _hw(host):
    try:
        with open(host + "/board.json") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Board:
    """Every door unit part, built from the unit's config (/config.json)."""

    name = "virtual"

    def __init__(self, config, host="/host"):
        hw = _hw(host)
        self.root = ""  # the flash filesystem is the cwd, "/"
        self.events = Events(hw.get("events"))
        # opened at the module's factory 9600: "baud" is the target the driver switches to
        self.uart = UART(hw["scanner"], 9600, 2048, host + "/uart_baud") \
            if hw.get("scanner") else None
        self.green = Output("green", self.events)
        self.red = Output("red", self.events)
        self.buzzer = Output("buzzer", self.events)
        self.relay = Output("relay", self.events)
        self.relay_ms = config.get("relay_ms", 3000)
        self.wdt = Watchdog(config.get("wdt_ms", 8000), self.events)
        self.state = State(hw.get("rtc", host + "/rtc.bin"))
        self.clock = Clock(hw.get("clock_offset", 0), hw.get("clock_file"))
        self.net = Network(config)

        self._en = energy
        self.energy = energy.EnergyMeter(time.ticks_ms(), time.ticks_diff)

    def idle(self, ms):
        """Wait up to ms for the scanner (accounted as sleep: the virtual board wakes on the
        first byte, which the ESP32's light sleep cannot; see docs/FIRMWARE.md)."""
        e = self.energy
        en = self._en
        e.enter(en.SLEEP if ms >= 20 else en.IDLE, time.ticks_ms())
        if self.uart:
            self.uart.wait(ms)
        else:
            time.sleep_ms(ms)
        e.enter(en.IDLE, time.ticks_ms())

    def mem_free(self):
        return gc.mem_free()

    def reset(self):
        """Like machine.reset(): the process ends at once (sys.exit would drop into the -i
        REPL) and the launcher starts the interpreter again; RTC memory (a file) survives."""
        import os

        os.system("kill -TERM $PPID")  # the shell's parent: this interpreter
        time.sleep_ms(1000)
