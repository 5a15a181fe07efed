"""The door unit's app loop: scanner -> check -> feedback -> scan log (pure: board passed in).

One pass of step(): feed the watchdog, poll the scanner, decide a complete code, advance the
feedback pattern, do the periodic work (time floor, sync hook) and idle until the next byte.
The scan path does no network and allocates only the code's bytes and what the check needs;
an exception in one scan is counted and shown as INTERNAL (red), never stops the loop.

Sync hook: `App.sync` is None or a callable hook(app) run every sync_interval_s while idle,
between scans. On the door gerbang.startup sets it (and run_sync) to a hook that asks for the
sync boot and resets (docs/FIRMWARE.md "Sync"); run_sync() itself, with the network brought up
before and down after (energy state WIFI), serves hooks that sync in place (tests). The clock
is a gerbang.timekeeper.TimeKeeper, passed in.
"""

import gc

from gerbang import energy, feedback, scanner
from gerbang import reasons as R

_MODES = {"manual": 0, "command": 1, "continuous": 2, "induction": 3}


def _zero():
    return 0


# CPython (host tests) has no heap figures
_mem_alloc = getattr(gc, "mem_alloc", _zero)
_mem_free = getattr(gc, "mem_free", _zero)


class App:
    def __init__(self, board, checker, log, config, timekeeper, sync=None):
        self.board = board
        self.checker = checker
        self.log = log
        self.time = timekeeper
        self.sync = sync
        clk = board.clock
        self.clock = clk
        self.scanner = scanner.Scanner(
            board.uart, clk.ticks_ms, clk.ticks_diff, max_len=config.get("max_qr", 600),
            char_timeout_ms=config.get("char_timeout_ms", 100),
            debounce_ms=config.get("scan_debounce_ms", 1500), sleep_ms=clk.sleep_ms)
        self.feedback = feedback.Feedback(board.green, board.red, board.buzzer, board.relay,
                                          relay_ms=config.get("relay_ms", 3000))
        self.energy = board.energy
        self.sync_interval_ms = config.get("sync_interval_s", 900) * 1000
        self.idle_ms = config.get("idle_ms", 50)
        # only what start() needs; the config dict itself is not kept (heap)
        self._scan_cfg = (_MODES.get(config.get("scanner_mode", "continuous"), 2),
                          config.get("scanner_same_delay_ms", 1500),
                          config.get("scanner_save", False), config.get("scanner_retries", 3),
                          config.get("baud", 115200))
        self._last_sync = clk.ticks_ms()
        self.scans = 0
        self.errors = 0
        self.sync_errors = 0
        self.last = None

    def start(self):
        """Configure the scanner (a module that does not answer still sends codes at its
        factory settings: count it and go on)."""
        b = self.board
        b.wdt.feed()
        mode, delay, save, retries, baud = self._scan_cfg
        self._scan_cfg = None  # needed once
        # the check's reserve is the set-up's room (with a long list and three keys the
        # 64-bit port had none left for it); taken back by rest() below
        self.checker._res = None
        failed = self.scanner.configure(mode=mode, same_delay_ms=delay, save=save,
                                        retries=retries, baud=baud)
        b.wdt.feed()
        import sys

        import gerbang

        # configuration code: not needed again (the package attribute holds it too)
        sys.modules.pop("gerbang.zonebit", None)
        if hasattr(gerbang, "zonebit"):
            delattr(gerbang, "zonebit")
        self.checker.rest()
        b.events.emit("start", scanner_failed=failed, baud=self.scanner.baud,
                      mem_alloc=_mem_alloc(), mem_free=_mem_free())
        return failed

    def scan(self, n):
        """Decide one scanned code (n from Scanner.poll). Never raises."""
        b = self.board
        clk = self.clock
        t0 = clk.ticks_ms()
        self.energy.enter(energy.DECIDING, t0)
        self.scans += 1
        shown = False
        try:
            now, q = self.time.now()
            if n == scanner.TOO_LONG:
                allow, reason, flags, kid, tag = False, R.TOO_LONG, 0, None, None
            else:
                d = self.checker.check(bytes(self.scanner.code[:n]), now, q)
                allow = bool(d.allow) and d.reason == R.OK
                reason, flags, kid, tag = d.reason, d.flags, d.kid, d.subject_tag
                if not allow and reason == R.OK:
                    reason = R.INTERNAL  # never show green without an allow
                self.last = d
            self.feedback.start(R.OK if allow else reason, clk.ticks_ms(), clk.ticks_diff)
            shown = True
            seq = self.log.append(now, 1 if allow else 0, reason, q, flags, kid, tag)
            b.events.emit("decision", n=self.scans, allow=allow, reason=reason, clock=q,
                          flags=flags, seq=seq, ms=clk.ticks_diff(clk.ticks_ms(), t0))
        except Exception as e:  # noqa: BLE001 - one bad scan must not stop the door
            self.errors += 1
            if not shown:
                self.feedback.start(R.INTERNAL, clk.ticks_ms(), clk.ticks_diff)
            b.events.emit("error", n=self.scans, err=repr(e))
        self.energy.enter(energy.IDLE, clk.ticks_ms())
        self.checker.rest()  # between people: the one collection of a scan, the reserve back
        b.events.emit("heap", n=self.scans, mem_alloc=_mem_alloc(), mem_free=_mem_free())

    def run_sync(self):
        """Run the sync hook with the radio up; errors are counted, never fatal."""
        b = self.board
        clk = self.clock
        self._last_sync = clk.ticks_ms()
        if self.sync is None:
            return False
        self.energy.enter(energy.WIFI, clk.ticks_ms())
        ok = False
        try:
            if b.net.up():
                b.wdt.feed()
                self.sync(self)
                ok = True
        except Exception as e:  # noqa: BLE001
            self.sync_errors += 1
            b.events.emit("sync_error", err=repr(e))
        finally:
            b.net.down()
            self.energy.enter(energy.IDLE, clk.ticks_ms())
        return ok

    def step(self):
        b = self.board
        clk = self.clock
        b.wdt.feed()
        n = self.scanner.poll()
        if n:
            self.scan(n)
            return
        now = clk.ticks_ms()
        busy = self.feedback.update(now, clk.ticks_diff)
        if self.scanner.pending():
            self.energy.enter(energy.SCANNING, now)
            b.idle(5)
            return
        if self.energy.state == energy.SCANNING:
            self.energy.enter(energy.IDLE, now)
        if busy:
            b.idle(10)
            return
        self.time.tick()
        if self.sync is not None and clk.ticks_diff(now, self._last_sync) >= self.sync_interval_ms:
            self.run_sync()
            return
        b.idle(self.idle_ms)

    def run(self, max_steps=-1):
        """The loop; KeyboardInterrupt (Ctrl-C from mpremote) ends it, nothing else does."""
        while max_steps != 0:
            if max_steps > 0:
                max_steps -= 1
            try:
                self.step()
            except Exception as e:  # noqa: BLE001
                self.errors += 1
                self.board.events.emit("error", err=repr(e))

    def status(self):
        """Health for the REPL, tests and the sync request."""
        t, q = self.time.now()
        s = self.scanner
        return {"time": t, "clock": q, "scans": self.scans, "errors": self.errors,
                "codes": s.codes, "repeats": s.repeats, "noise": s.noise,
                "timeouts": s.timeouts, "acks": s.acks, "overflows": s.overflows,
                "scanner_configured": s.configured, "mem_free": _mem_free(),
                "energy": self.energy.profile(self.clock.ticks_ms())}
