"""Door feedback: reason class -> LEDs, buzzer and relay pattern (pure, non-blocking).

Classes (docs/PROTOCOL.md §7): OK -> green + relay pulse; unreadable (1-5, 18) -> red, one long
beep; untrusted (6-9, 17, 20) -> red, three short beeps; valid but not admitted (10-16, 19) ->
red, two beeps, except WRONG_AREA (12: valid, but for another area's doors) -> red and green
together (amber), one short beep. start() switches the outputs at once and plans the rest; update(now_ms) does
the due steps, so the scan loop never sleeps for a beep. The patterns are built once, so a scan
allocates nothing here. The relay has its own deadline: a red pattern that starts while the
door is open does not cut the open pulse short.

Outputs are objects with value(v) (the board layer's Output).
"""

from micropython import const

OK = const(0)
UNREADABLE = const(1)
UNTRUSTED = const(2)
NOT_ADMITTED = const(3)
OTHER_AREA = const(4)

_GREEN = const(0)
_RED = const(1)
_BUZZ = const(2)

# Reason code -> class, indexed by the §7 code; unknown codes count as untrusted.
_CLASS = (OK, UNREADABLE, UNREADABLE, UNREADABLE, UNREADABLE, UNREADABLE,
          UNTRUSTED, UNTRUSTED, UNTRUSTED, UNTRUSTED,
          NOT_ADMITTED, NOT_ADMITTED, OTHER_AREA, NOT_ADMITTED, NOT_ADMITTED, NOT_ADMITTED,
          NOT_ADMITTED, UNTRUSTED, UNREADABLE, NOT_ADMITTED, UNTRUSTED)


def reason_class(reason):
    if 0 <= reason < len(_CLASS):
        return _CLASS[reason]
    return UNTRUSTED


def _beeps(n, on_ms, off_ms, led_ms):
    steps = [(0, _RED, 1)]
    t = 0
    for _ in range(n):
        steps.append((t, _BUZZ, 1))
        steps.append((t + on_ms, _BUZZ, 0))
        t += on_ms + off_ms
    steps.append((max(t, led_ms), _RED, 0))
    return tuple(steps)


class Feedback:
    def __init__(self, green, red, buzzer, relay, relay_ms=3000, led_ms=1500, beep_ms=150):
        self._out = (green, red, buzzer)
        self.relay = relay
        self.relay_ms = relay_ms
        self._patterns = (
            ((0, _GREEN, 1), (max(relay_ms, led_ms), _GREEN, 0)),
            _beeps(1, 4 * beep_ms, beep_ms, led_ms),
            _beeps(3, beep_ms // 2 + 25, beep_ms // 2 + 25, led_ms),
            _beeps(2, beep_ms, beep_ms, led_ms),
            ((0, _RED, 1), (0, _GREEN, 1), (0, _BUZZ, 1), (beep_ms, _BUZZ, 0),
             (led_ms, _RED, 0), (led_ms, _GREEN, 0)),
        )
        self._steps = None
        self._i = 0
        self._t0 = 0
        self._relay_t0 = 0
        self._relay_on = False
        self.pulses = 0
        for o in self._out:
            o.value(0)
        relay.value(0)

    def start(self, reason, now_ms, ticks_diff=None):
        """Show the decision for reason (0 = allow). Returns the reason class."""
        cls = reason_class(reason)
        for o in self._out:
            o.value(0)
        self._steps = self._patterns[cls]
        self._i = 0
        self._t0 = now_ms
        if cls == OK:
            self.relay.value(1)
            self.pulses += 1
            self._relay_t0 = now_ms
            self._relay_on = True
        self.update(now_ms, ticks_diff)
        return cls

    def update(self, now_ms, ticks_diff=None):
        """Do every step that is due. Returns True while something is still planned."""
        if self._relay_on:
            el = ticks_diff(now_ms, self._relay_t0) if ticks_diff else now_ms - self._relay_t0
            if el >= self.relay_ms:
                self.relay.value(0)
                self._relay_on = False
        steps = self._steps
        if steps is not None:
            el = ticks_diff(now_ms, self._t0) if ticks_diff else now_ms - self._t0
            out = self._out
            i = self._i
            while i < len(steps) and steps[i][0] <= el:
                s = steps[i]
                out[s[1]].value(s[2])
                i += 1
            self._i = i
            if i >= len(steps):
                self._steps = None
        return self.busy()

    def busy(self):
        return self._steps is not None or self._relay_on

    def off(self):
        for o in self._out:
            o.value(0)
        self.relay.value(0)
        self._steps = None
        self._relay_on = False
