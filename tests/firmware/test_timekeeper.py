"""The door's clock refuses a server time that goes back, and the boot marker keeps its place
when RTC memory holds no record (after a power loss). Runs on CPython and MicroPython."""

from fakes import rmtree, tmpdir
from fwtest import check
from gerbang import timekeeper


class _Clock:
    def __init__(self, t):
        self.t = t

    def time(self):
        return self.t

    def set_time(self, t):
        self.t = t

    def ticks_ms(self):
        return 0

    def ticks_diff(self, a, b):
        return a - b


class _State:
    def __init__(self, raw=b""):
        self.raw = raw

    def load(self):
        return self.raw

    def save(self, raw):
        self.raw = bytes(raw)


def test_server_time_going_back_is_refused():
    d = tmpdir("timekeeper")
    t0 = 1800000000
    clock, state = _Clock(t0), _State()
    tk = timekeeper.TimeKeeper(clock, state, d + "/time.floor")
    check(tk.trusted(t0) is True and tk.now() == (t0, timekeeper.CLOCK_SYNCED))
    check(tk.trusted(t0 - 2 * 86400) is False, "two days back taken")
    check(clock.t == t0 and tk.last_sync == t0 and tk.floor == t0)
    check(tk.trusted(t0 - 60) is True, "a minute back is clock noise, not a jump")
    # after a power loss only the floor is left: it still bounds what is taken
    tk2 = timekeeper.TimeKeeper(_Clock(0), _State(), d + "/time.floor")
    check(tk2.last_sync == 0 and tk2.floor == t0)
    check(tk2.trusted(t0 - 86400) is False and tk2.trusted(t0 + 5) is True)
    rmtree(d)


def test_marker_after_power_loss_sits_after_a_record_slot():
    state = _State()  # RTC memory lost: no record
    check(timekeeper.marker(state, b"S") == b"S", "marker not read back")
    check(len(state.raw) == 13)
    check(timekeeper.marker(state) == b"S")
    check(timekeeper.marker(state, b"") == b"" and timekeeper.marker(state) == b"")
    # the zeros are no record: a TimeKeeper on this state is not synced
    d = tmpdir("timekeeper_m")
    timekeeper.marker(state, b"S")
    tk = timekeeper.TimeKeeper(_Clock(5), state, d + "/time.floor")
    check(tk.last_sync == 0 and tk.now()[1] == timekeeper.CLOCK_UNKNOWN)
    rmtree(d)
