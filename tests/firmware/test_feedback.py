"""Feedback patterns: which outputs switch when, per reason class; relay pulse length."""

from fakes import RecordingPin as Out
from fwtest import check
from gerbang import feedback


def rig(relay_ms=3000):
    log = []
    outs = [Out(n, log) for n in ("green", "red", "buzzer", "relay")]
    fb = feedback.Feedback(outs[0], outs[1], outs[2], outs[3], relay_ms=relay_ms)
    return fb, outs, log


def run(fb, log, reason, until_ms, step=10):
    """Start at t=0, step the clock; return [(t, name, value)] and the class."""
    timeline = []
    del log[:]
    cls = fb.start(reason, 0)
    for name, v in log:
        timeline.append((0, name, v))
    for t in range(step, until_ms, step):
        del log[:]
        fb.update(t)
        for name, v in log:
            timeline.append((t, name, v))
    return timeline, cls


def beeps(timeline):
    return len([1 for t, n, v in timeline if n == "buzzer" and v == 1])


def test_classes_cover_every_reason():
    check(feedback.reason_class(0) == feedback.OK)
    for r in (1, 2, 3, 4, 5, 18):
        check(feedback.reason_class(r) == feedback.UNREADABLE)
    for r in (6, 7, 8, 9, 17, 20):
        check(feedback.reason_class(r) == feedback.UNTRUSTED)
    for r in (10, 11, 13, 14, 15, 16, 19):
        check(feedback.reason_class(r) == feedback.NOT_ADMITTED)
    check(feedback.reason_class(12) == feedback.OTHER_AREA)
    check(feedback.reason_class(99) == feedback.UNTRUSTED)
    check(feedback.reason_class(-1) == feedback.UNTRUSTED)


def test_allow_pulses_relay_for_configured_time_and_green():
    fb, outs, log = rig(relay_ms=700)
    tl, cls = run(fb, log, 0, 3000)
    check(cls == feedback.OK)
    check((0, "relay", 1) in tl and (0, "green", 1) in tl)
    off = [t for t, n, v in tl if n == "relay" and v == 0]
    check(off == [700], repr(off))
    check(beeps(tl) == 0)
    check(not [1 for t, n, v in tl if n == "red"])
    check(not fb.busy())
    check(fb.pulses == 1)


def test_deny_patterns_beep_counts_and_no_relay():
    for reason, n in ((1, 1), (18, 1), (8, 3), (17, 3), (11, 2), (19, 2)):
        fb, outs, log = rig()
        tl, cls = run(fb, log, reason, 4000)
        check(beeps(tl) == n, "reason %d: %d beeps" % (reason, beeps(tl)))
        check((0, "red", 1) in tl)
        check(not [1 for t, nm, v in tl if nm == "relay"])
        check(not [1 for t, nm, v in tl if nm == "green"])
        check(outs[1].v == 0 and outs[2].v == 0, "everything off at the end")
        check(not fb.busy())


def test_other_area_is_its_own_signal_amber_and_one_short_beep():
    fb, outs, log = rig()
    tl, cls = run(fb, log, 12, 4000)  # WRONG_AREA
    check(cls == feedback.OTHER_AREA)
    check((0, "red", 1) in tl and (0, "green", 1) in tl, repr(tl))
    check(beeps(tl) == 1)
    on = [t for t, n, v in tl if n == "buzzer" and v == 1]
    off = [t for t, n, v in tl if n == "buzzer" and v == 0]
    check(off[0] - on[0] == 150, "a short beep, not the unreadable class's long one")
    check(not [1 for t, nm, v in tl if nm == "relay"])
    check(outs[0].v == 0 and outs[1].v == 0 and outs[2].v == 0, "everything off at the end")
    check(not fb.busy())


def test_long_beep_is_longer_than_short_beeps():
    fb, outs, log = rig()
    tl, _ = run(fb, log, 2, 4000)
    on = [t for t, n, v in tl if n == "buzzer" and v == 1]
    off = [t for t, n, v in tl if n == "buzzer" and v == 0]
    long_ms = off[0] - on[0]
    fb, outs, log = rig()
    tl, _ = run(fb, log, 6, 4000)
    on = [t for t, n, v in tl if n == "buzzer" and v == 1]
    off = [t for t, n, v in tl if n == "buzzer" and v == 0]
    check(long_ms > 2 * (off[0] - on[0]))


def test_deny_during_open_pulse_keeps_relay_deadline():
    fb, outs, log = rig(relay_ms=1000)
    fb.start(0, 0)
    fb.update(300)
    fb.start(11, 300)  # next person shows an expired certificate
    check(outs[3].v == 1 and outs[0].v == 0 and outs[1].v == 1)
    fb.update(999)
    check(outs[3].v == 1)
    fb.update(1000)
    check(outs[3].v == 0)


def test_ticks_diff_is_used_across_wrap():
    fb, outs, log = rig(relay_ms=500)
    period = 1 << 30

    def tdiff(a, b):
        return ((a - b + period // 2) & (period - 1)) - period // 2

    fb.start(0, period - 100, tdiff)
    fb.update(period - 1, tdiff)
    check(outs[3].v == 1)
    fb.update(450, tdiff)  # wrapped: 550 ms later
    check(outs[3].v == 0)


def test_off_turns_everything_off():
    fb, outs, log = rig()
    fb.start(0, 0)
    fb.off()
    check([o.v for o in outs] == [0, 0, 0, 0])
    check(not fb.busy())
