"""The app loop with the real checker, scan log and driver; fakes only at the board boundary
(UART, pins, clock, RTC memory, network, watchdog)."""

import gc
import os
import struct
import time
from binascii import hexlify, unhexlify

from fakes import RecordingPin as Pin
from fakes import rmtree as _rmtree
from fwtest import check, golden_install, golden_stream, trust_load

# One directory per process: pytest-xdist imports this module in every worker, and the
# MicroPython run of the same file may go on at the same time.
_DIR = "/tmp/gerbang-test-app-" + hexlify(os.urandom(4)).decode()


class UART:
    def __init__(self):
        self.rx = bytearray()
        self.tx = bytearray()

    def any(self):
        return len(self.rx)

    def readinto(self, buf):
        n = min(len(buf), len(self.rx))
        if not n:
            return None
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        return n

    def write(self, data):
        self.tx.extend(data)
        # a GM65 acknowledges every command frame (zonebit: the module the app is configuring
        # the scanner with; the app drops it after start, so no reference is kept here)
        from gerbang import zonebit

        st, kind, addr, d0, n = zonebit.parse_command(data)
        if st > 0:
            self.rx.extend(zonebit.reply(b"\xd4" if kind == zonebit.T_READ else b"\x00"))
        return len(data)


class Clock:
    def __init__(self, unix):
        self.ms = 5000
        self.unix = unix

    def time(self):
        return self.unix + self.ms // 1000

    def set_time(self, unix):
        self.unix = unix - self.ms // 1000

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.ms += ms


class State:
    def __init__(self, data=b""):
        self.data = data

    def load(self):
        return self.data

    def save(self, data):
        self.data = bytes(data)


class Events:
    def __init__(self):
        self.items = []

    def emit(self, kind, **fields):
        fields["ev"] = kind
        self.items.append(fields)


class Net:
    def __init__(self):
        self.ups = 0
        self.downs = 0

    def up(self, timeout_ms=0):
        self.ups += 1
        return True

    def down(self):
        self.downs += 1


class WDT:
    feeds = 0

    def feed(self):
        self.feeds += 1


class Board:
    def __init__(self, unix):
        self.pins = []
        self.uart = UART()
        self.green = Pin("green", self.pins)
        self.red = Pin("red", self.pins)
        self.buzzer = Pin("buzzer", self.pins)
        self.relay = Pin("relay", self.pins)
        self.clock = Clock(unix)
        self.state = State()
        self.events = Events()
        self.net = Net()
        self.wdt = WDT()
        self.energy = energy.EnergyMeter(self.clock.ms)

    def idle(self, ms):
        self.energy.enter(energy.SLEEP, self.clock.ms)
        self.clock.ms += ms
        self.energy.enter(energy.IDLE, self.clock.ms)


def _golden():
    """(now, area, root_pub): streamed, the certificates are not held."""
    v = {}
    for k, val in golden_stream(("now", "area", "root_pub")):
        v[k] = val
    return int(v["now"]), int(v["area"]), unhexlify(v["root_pub"])


def _certs():
    """Every golden certificate, one at a time: (name, allow, reason, flags, qr)."""
    for _k, c in golden_stream(("cert",)):
        yield c


def _qr(name):
    for c in _certs():
        if c[0] == name:
            return c[4].encode()
    raise KeyError(name)


# The golden trust list is installed (its cache built) once, before the scan path and the app
# are imported, as on the door (firmware/main.py installs, then resets): on MicroPython in a
# child interpreter, so the install's leftovers stay out of this heap (fwtest.golden_install).
_rmtree(_DIR)
os.mkdir(_DIR)
golden_install(_DIR + "/trust.bin", child=True)
# ... and opened once from its cache, as main.py does, before the rest is imported
from gerbang import truststore  # noqa: E402

_STORE = truststore.TrustStore(_DIR + "/trust.bin", _golden()[2], _golden()[1])
check(trust_load(_STORE, _golden()[0]), _STORE.error)

from gerbang import app, energy, record, scanlog, timekeeper  # noqa: E402 - after the list
from gerbang import check as gcheck  # noqa: E402


def rig(synced=True, config=None):
    now, area, root = _golden()
    for name in ("time.floor", "time.floor.tmp"):
        try:
            os.remove(_DIR + "/" + name)
        except OSError:
            pass
    _rmtree(_DIR + "/log")
    os.mkdir(_DIR + "/log")
    b = Board(now)
    tk = timekeeper.TimeKeeper(b.clock, b.state, _DIR + "/time.floor")
    if synced:
        tk.trusted(now)
    store = _STORE
    check(store.trust is not None and store.source == "cache", store.error)
    tk.raise_floor(store.trust.issued)
    log = scanlog.ScanLog(_DIR + "/log")
    cfg = {"relay_ms": 800, "sync_interval_s": 60}
    if config:
        cfg.update(config)
    a = app.App(b, gcheck.Checker(store, area), log, cfg, tk)
    check(a.start() == 0)
    gc.collect()
    return a, b


def scan(a, b, text, settle_ms=3000):
    b.uart.rx.extend(text + b"\r")
    del b.pins[:]
    before = a.scans
    for _ in range(200):
        a.step()
        if a.scans > before:
            break
    end = b.clock.ms + settle_ms
    while b.clock.ms < end:
        a.step()
    a.scanner.forget()
    ds = [e for e in b.events.items if e["ev"] == "decision" and e["n"] > before]
    return ds[-1] if ds else None


def test_valid_certificate_pulses_relay_and_logs_allow():
    a, b = rig()
    d = scan(a, b, _qr("valid"))
    check(d is not None and d["allow"] and d["reason"] == 0, repr(d))
    check(("relay", 1) in b.pins and ("relay", 0) in b.pins and ("green", 1) in b.pins)
    check(("red", 1) not in b.pins)
    buf = bytearray(32 * 4)
    first, n = a.log.read(0, buf)
    check(first == 1 and n == 1)
    seq, t, dec, reason, clk, flags, kid, tag = record.unpack(buf, 0)
    check(seq == 1 and dec == 1 and reason == 0 and clk == timekeeper.CLOCK_SYNCED)
    check(tag == unhexlify("2907ac77e12fc298") and kid == unhexlify("df2002da846f9c40"))


def test_every_golden_invalid_certificate_is_denied_with_its_reason():
    a, b = rig()
    seen = 0
    for name, allow, reason, _flags, qr in _certs():
        if allow or not qr or name == "valid_clock_stale_flagged":
            continue
        seen += 1
        d = scan(a, b, qr.encode())
        check(d is not None, name)
        check(not d["allow"] and d["reason"] == reason, "%s: %r" % (name, d))
        check(("relay", 1) not in b.pins, name)
        check(("red", 1) in b.pins and ("buzzer", 1) in b.pins, name)
        del b.events.items[:]
    check(seen >= 20, "only %d invalid certificates" % seen)


def test_floor_only_clock_allows_and_flags():
    a, b = rig(synced=False)
    d = scan(a, b, _qr("valid_clock_stale_flagged"))
    check(d["allow"] and d["clock"] == timekeeper.CLOCK_FLOOR and d["flags"] == 1, repr(d))


def test_garbage_and_exceptions_do_not_stop_the_loop():
    a, b = rig()

    class Boom:  # a checker whose check() fails; rest() (between people) as the real one
        def check(self, *args):
            raise MemoryError("boom")

        def rest(self):
            gc.collect()

    real = a.checker
    a.checker = Boom()
    d = scan(a, b, b"GB1:ANYTHING")
    check(d is None and a.errors == 1)
    check(("red", 1) in b.pins and ("relay", 1) not in b.pins)
    a.checker = real
    b.uart.rx.extend(b"\x00\xff\x13garbage\r" + b"Z" * 900 + b"\r")
    for _ in range(50):
        a.step()
    d = scan(a, b, _qr("valid"))
    check(d["allow"], repr(d))
    reasons = [e["reason"] for e in b.events.items if e["ev"] == "decision"]
    check(18 in reasons)  # the over-long frame is logged as TOO_LONG


class _CountingGC:
    """Stands in for the gc module in gerbang.app and gerbang.check: each collection is
    recorded among the board's pin changes, so the test sees when it ran."""

    def __init__(self, pins):
        self.pins = pins

    def collect(self):
        self.pins.append(("gc", 1))
        gc.collect()

    def mem_alloc(self):
        return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0

    def mem_free(self):
        return gc.mem_free() if hasattr(gc, "mem_free") else 0


def test_one_collection_per_scan_after_the_relay_and_the_log():
    a, b = rig()
    saved = (app.gc, gcheck.gc)
    app.gc = gcheck.gc = _CountingGC(b.pins)
    try:
        for name in ("valid", "expired", "valid"):
            b.clock.ms += 5000  # past the debounce: each code decided
            d = scan(a, b, _qr(name))
            check(d is not None, name)
            got = [p for p in b.pins if p[0] in ("gc", "relay")]
            want = [("relay", 1), ("gc", 1), ("relay", 0)] if d["allow"] else [("gc", 1)]
            check(got == want, name + ": " + repr(got))  # one, after the relay opened
            seq = [e for e in b.events.items if e["ev"] in ("decision", "heap")][-2:]
            check([e["ev"] for e in seq] == ["decision", "heap"])  # logged, then collected
    finally:
        app.gc, gcheck.gc = saved


def test_timekeeper_floor_persists_and_rtc_record_survives_reset():
    now = _golden()[0]
    try:
        os.remove(_DIR + "/time.floor")
    except OSError:
        pass
    clk = Clock(946684800)  # an ESP32 after power loss: RTC at 2000-01-01
    st = State()
    tk = timekeeper.TimeKeeper(clk, st, _DIR + "/time.floor")
    t, q = tk.now()
    check(q == timekeeper.CLOCK_UNKNOWN)
    tk.raise_floor(now - 100)
    clk.ms += 10000
    t, q = tk.now()
    check(q == timekeeper.CLOCK_FLOOR and t >= now - 100 + 10, repr((t, q)))
    tk2 = timekeeper.TimeKeeper(Clock(946684800), State(), _DIR + "/time.floor")  # power loss
    check(tk2.floor == now - 100)
    tk.trusted(now)
    tk3 = timekeeper.TimeKeeper(clk, st, _DIR + "/time.floor")  # soft reset: RTC memory kept
    t, q = tk3.now()
    check(q == timekeeper.CLOCK_SYNCED and t >= now)
    clk.ms += (tk3.max_unsynced + 5) * 1000
    check(tk3.now()[1] == timekeeper.CLOCK_FLOOR)
    bad = State(struct.pack("<III", 0x31544247, now, 0))
    check(timekeeper.TimeKeeper(clk, bad, _DIR + "/none").last_sync == 0)


def test_sync_hook_runs_with_network_up_then_down():
    a, b = rig()
    calls = []

    def hook(app_):
        calls.append(b.net.ups)
        app_.time.trusted(app_.time.now()[0] + 1)

    a.sync = hook
    for _ in range(2000):
        a.step()
        if calls:
            break
    check(calls == [1] and b.net.downs == 1)
    check(a.energy.entries[energy.WIFI] == 1)

    def failing(app_):
        raise OSError(113)

    a.sync = failing
    a.run_sync()
    check(a.sync_errors == 1 and b.net.downs == 2)


def test_debounce_same_code_in_view_decided_once():
    a, b = rig()
    qr = _qr("expired")
    for _ in range(4):
        b.uart.rx.extend(qr + b"\r")
        for _ in range(6):
            a.step()
    check(a.scans == 1, "scans %d" % a.scans)


def test_energy_meter_accounts_states():
    e = energy.EnergyMeter(0)
    e.enter(energy.SLEEP, 1000)
    e.enter(energy.SCANNING, 61500)
    e.enter(energy.DECIDING, 61600)
    e.enter(energy.IDLE, 61610)
    p = e.profile(62610)
    s = p["seconds"]
    check(s["idle"] == 2.0 and s["sleep"] == 60.5, repr(s))
    check(abs(s["scanning"] - 0.1) < 1e-9 and abs(s["deciding"] - 0.01) < 1e-9)
    check(p["entries"]["idle"] == 2 and p["entries"]["deciding"] == 1)


def test_zz_cleanup():  # last, also in mprun.py's sorted order
    _rmtree(_DIR)
    check(time.time() > 0)
