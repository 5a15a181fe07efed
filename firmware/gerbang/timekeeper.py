"""The door's clock (docs/FIRMWARE.md "Time"): the TimeKeeper and the files it keeps, the
record of the last trusted time in RTC memory and the time floor on flash. This module alone
knows their layout: the scan path's app and the sync boot (gerbang.sync) both use it. The
byte after the RTC record is the boot's marker (gerbang.startup: "S" asks for the sync boot,
"R" says the reset after an install happened).

Pure: the clock and the RTC memory are the board's, passed in."""

import struct

from micropython import const

CLOCK_SYNCED = const(0)
CLOCK_FLOOR = const(1)
CLOCK_UNKNOWN = const(2)
_MAGIC = const(0x31544247)  # "GBT1": RTC memory record of the last trusted time
_RTC = "<III"  # magic, last trusted unix time, check (magic ^ time)
_RTC_SIZE = const(12)  # the marker byte follows it
_FLOOR = "<II"  # floor, ~floor
_U32 = const(0xFFFFFFFF)
# A verified server time this far before what the unit already trusted is refused (a server
# clock that jumped back, or an old answer): the door's time never goes back past the floor.
_BACK_S = const(600)


class TimeKeeper:
    """Best estimate of unix time and its clock quality (docs/FIRMWARE.md "Time").

    - synced (0): the RTC was set from a verified server time since power-on (the record in
      RTC memory survives resets, not power loss) no longer ago than max_unsynced;
    - floor-only (1): time = max(RTC, floor + uptime), floor = latest trusted time persisted
      on flash (server time, trust list issue time, and the running estimate every
      floor_every_s, so a power loss costs at most that much);
    - unknown (2): no floor at all (never provisioned with a trust list or a sync)."""

    def __init__(self, clock, state, floor_path, max_unsynced=7 * 86400, floor_every_s=3600):
        self.clock = clock
        self.state = state
        self.path = floor_path
        self.max_unsynced = max_unsynced
        self.floor_every_s = floor_every_s
        self.last_sync = 0
        self.floor = 0
        self._up_ms = 0
        self._t = clock.ticks_ms()
        self._saved_at = 0
        rec = state.load()
        if rec and len(rec) >= _RTC_SIZE:
            m, t, c = struct.unpack(_RTC, rec[:_RTC_SIZE])
            if m == _MAGIC and c == (m ^ t):
                self.last_sync = t
        try:
            with open(floor_path, "rb") as f:
                rec = f.read(8)
            if len(rec) == 8:
                v, nv = struct.unpack(_FLOOR, rec)
                if v ^ nv == _U32:
                    self.floor = v
        except OSError:
            pass

    def uptime_s(self):
        now = self.clock.ticks_ms()
        self._up_ms += self.clock.ticks_diff(now, self._t)  # in steps: ticks wrap on the ESP32
        self._t = now
        return self._up_ms // 1000

    def now(self):
        """-> (unix seconds, clock quality)."""
        t = self.clock.time()
        if self.last_sync:
            if t < self.last_sync:
                t = self.last_sync
            return t, CLOCK_SYNCED if t - self.last_sync <= self.max_unsynced else CLOCK_FLOOR
        if not self.floor:
            return t, CLOCK_UNKNOWN
        f = self.floor + self.uptime_s()
        return (t if t > f else f), CLOCK_FLOOR

    def trusted(self, unix):
        """A verified server time: set the RTC, remember it in RTC memory, raise the floor.
        Refused (False, nothing changes) when it is more than _BACK_S before the last trusted
        time or the floor."""
        if unix + _BACK_S < (self.last_sync if self.last_sync > self.floor else self.floor):
            return False
        self.clock.set_time(unix)
        self.last_sync = unix
        self.state.save(struct.pack(_RTC, _MAGIC, unix, _MAGIC ^ unix))
        self.raise_floor(unix)
        return True

    def raise_floor(self, unix):
        """Persist a higher floor (atomically: tmp + rename). Returns True when raised."""
        if unix <= self.floor:
            return False
        self.floor = unix
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(struct.pack(_FLOOR, unix, unix ^ _U32))
            import os

            os.rename(tmp, self.path)
        except OSError:
            return False
        self._saved_at = self.uptime_s()
        return True

    def tick(self):
        """Periodic: move the persisted floor up to the current estimate."""
        up = self.uptime_s()
        if up - self._saved_at >= self.floor_every_s:
            t, q = self.now()
            self._saved_at = up
            if q != CLOCK_UNKNOWN:
                self.raise_floor(t)


def marker(state, new=None):
    """The boot's marker byte after the RTC record in state (b"" when there is none); with
    new, first set it to new (b"": none), keeping the record (written only when it
    changes)."""
    r = state.load() or b""
    if new is not None and bytes(r[_RTC_SIZE:]) != new:
        # no record yet (power loss, a fresh unit): zeros stand in for it, so the marker
        # still sits at byte 12 (zeros are no valid record: the clock stays unsynced)
        r = (bytes(r[:_RTC_SIZE]) + bytes(_RTC_SIZE))[:_RTC_SIZE] + new
        state.save(r)
    return bytes(r[_RTC_SIZE:_RTC_SIZE + 1])
