"""Time spent in each power state, for the energy estimate (pure; ticks passed in).

The board layer calls enter(state, now_ms) at every change; gerbang_dev/energy.py turns the totals
into mAh/day with the datasheet currents. Totals are kept as whole seconds plus a millisecond
remainder so they stay small ints on the ESP32 for years of uptime.
"""

from micropython import const

SLEEP = const(0)  # ESP32 light sleep, scanner in standby
IDLE = const(1)  # CPU awake, waiting for the scanner
SCANNING = const(2)  # a frame is arriving / the module is reading
DECIDING = const(3)  # CPU busy with the check, log and feedback
WIFI = const(4)  # radio up for a sync
NAMES = ("sleep", "idle", "scanning", "deciding", "wifi")
_N = const(5)


def _diff(a, b):
    return a - b


class EnergyMeter:
    def __init__(self, now_ms, ticks_diff=None, state=IDLE):
        self._diff = ticks_diff or _diff
        self.state = state
        self._t = now_ms
        self.sec = [0] * _N
        self.ms = [0] * _N
        self.entries = [0] * _N
        self.entries[state] = 1

    def _add(self, now_ms):
        d = self._diff(now_ms, self._t)
        if d > 0:
            s = self.state
            m = self.ms[s] + d
            self.sec[s] += m // 1000
            self.ms[s] = m % 1000
        self._t = now_ms

    def enter(self, state, now_ms):
        """Switch state; returns the previous one (so a caller can go back to it)."""
        prev = self.state
        self._add(now_ms)
        if state != prev:
            self.state = state
            self.entries[state] += 1
        return prev

    def totals(self, now_ms):
        """{name: seconds (float)} including the current state up to now_ms."""
        self._add(now_ms)
        out = {}
        for i in range(_N):
            out[NAMES[i]] = self.sec[i] + self.ms[i] / 1000
        return out

    def profile(self, now_ms):
        """The dict gerbang_dev/energy.py reads: seconds per state and entries per state."""
        ent = {}
        for i in range(_N):
            ent[NAMES[i]] = self.entries[i]
        return {"seconds": self.totals(now_ms), "entries": ent}
