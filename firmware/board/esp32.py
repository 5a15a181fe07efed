"""The ESP32 board layer (same classes and methods as board.virtual).

Config keys (docs/FIRMWARE.md): pins {"scanner_tx", "scanner_rx", "green", "red", "buzzer",
"relay"}, "uart" (UART id, default 2), "baud", "relay_ms", "wdt_ms", "wifi" {"ssid", "key"},
"light_sleep" (bool), "awake_ms". Flash is the littlefs partition MicroPython mounts at "/".
Clock: MicroPython on the ESP32 counts from 2000-01-01; unix time is converted here and only
here (EPOCH).
"""

import gc
import time

import machine
from micropython import const

from gerbang import energy

EPOCH = const(946684800)  # 2000-01-01 in unix seconds
RTC_SIZE = const(2048)


def UART(uart_id, baudrate, tx, rx, rxbuf=2048):
    # timeout=0: readinto() returns what is there at once; the driver does its own framing.
    return machine.UART(uart_id, baudrate=baudrate, tx=tx, rx=rx, rxbuf=rxbuf, timeout=0,
                        timeout_char=0)


class Events:
    """Nothing to record on the device (the virtual board writes a file)."""

    def __init__(self, path=None):
        pass

    def emit(self, kind, **fields):
        pass


class Output:
    def __init__(self, name, pin, active_high=True):
        self.name = name
        self._pin = machine.Pin(pin, machine.Pin.OUT, value=0 if active_high else 1)
        self._hi = active_high
        self._v = 0

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0
        self._pin.value(self._v if self._hi else 1 - self._v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class Watchdog:
    """machine.WDT: once started it cannot be stopped; feed() at least every timeout_ms."""

    def __init__(self, timeout_ms, events=None):
        self.timeout_ms = timeout_ms
        self._wdt = machine.WDT(timeout=timeout_ms)
        self.feeds = 0

    def feed(self):
        self._wdt.feed()
        self.feeds += 1


class State:
    """RTC slow memory: survives deep sleep, soft and WDT resets; lost on power loss."""

    def __init__(self, path=None):
        self._rtc = machine.RTC()

    def load(self):
        return bytes(self._rtc.memory())

    def save(self, data):
        if len(data) > RTC_SIZE:
            raise ValueError("RTC memory holds 2048 bytes")
        self._rtc.memory(data)


class Clock:
    def __init__(self, offset=0, path=None):
        self.offset = offset
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.ticks_add = time.ticks_add
        self.sleep_ms = time.sleep_ms

    def time(self):
        return time.time() + EPOCH + self.offset

    def set_time(self, unix):
        t = time.gmtime(unix - EPOCH)
        machine.RTC().datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
        self.offset = 0



class Network:
    """WLAN station, brought up only for a sync and down again (the radio dominates energy)."""

    def __init__(self, config):
        w = config.get("wifi") or {}
        self._ssid = w.get("ssid", "")
        self._key = w.get("key", "")
        self.server = config.get("server", "")
        self._wlan = None

    def up(self, timeout_ms=10000):
        import network

        if self._wlan is None:
            self._wlan = network.WLAN(network.WLAN.IF_STA)
        wlan = self._wlan
        wlan.active(True)
        if not wlan.isconnected():
            wlan.connect(self._ssid, self._key)
            t0 = time.ticks_ms()
            while not wlan.isconnected():
                if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
                    self.down()
                    return False
                time.sleep_ms(100)
        return True

    def down(self):
        if self._wlan is not None:
            self._wlan.disconnect()
            self._wlan.active(False)

    def isconnected(self):
        return self._wlan is not None and self._wlan.isconnected()


class Board:
    """Every door unit part, built from the unit's config (/config.json)."""

    name = "esp32"

    def __init__(self, config):
        pins = config.get("pins") or {}
        self.root = ""
        self.events = Events()
        self._rx_pin = pins.get("scanner_rx", 16)
        # opened at the module's factory 9600; "baud" is the rate the scanner driver switches
        # the module and this UART to at start (UART.init(baudrate=...))
        self.uart = UART(config.get("uart", 2), 9600, pins.get("scanner_tx", 17), self._rx_pin,
                         2048)
        hi = config.get("active_high", True)
        self.green = Output("green", pins.get("green", 25), hi)
        self.red = Output("red", pins.get("red", 26), hi)
        self.buzzer = Output("buzzer", pins.get("buzzer", 27), hi)
        self.relay = Output("relay", pins.get("relay", 33), config.get("relay_active_high", hi))
        self.relay_ms = config.get("relay_ms", 3000)
        self.wdt = Watchdog(config.get("wdt_ms", 8000))
        self.state = State()
        self.clock = Clock()
        self.net = Network(config)
        self.energy = energy.EnergyMeter(time.ticks_ms(), time.ticks_diff)
        self._light = bool(config.get("light_sleep", False))
        self._awake_ms = config.get("awake_ms", 60000)
        self._last_rx = time.ticks_ms()
        self._wake = None

    def idle(self, ms):
        """Wait up to ms. Light sleep only when enabled and nothing arrived for awake_ms:
        MicroPython has no UART wake, so the RX pin wakes the chip as a GPIO and the bytes
        of that first frame are lost (the module repeats the code after its same-code delay).
        Otherwise the CPU idles awake (modem sleep) and no byte is lost."""
        e = self.energy
        now = time.ticks_ms()
        if self.uart.any():
            self._last_rx = now
            return
        if self._light and time.ticks_diff(now, self._last_rx) > self._awake_ms:
            if self._wake is None:
                self._wake = machine.Pin(self._rx_pin, machine.Pin.IN)
                self._wake.irq(trigger=machine.Pin.WAKE_LOW, wake=machine.SLEEP)
            e.enter(energy.SLEEP, now)
            machine.lightsleep(ms)
            now = time.ticks_ms()
            self._last_rx = now  # stay awake for the repeat of the code that woke us
            e.enter(energy.IDLE, now)
            return
        time.sleep_ms(ms)

    def mem_free(self):
        return gc.mem_free()

    def reset(self):
        machine.reset()
