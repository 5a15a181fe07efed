"""CPython stand-in for MicroPython's `micropython` module, so firmware imports on the host.

Only used by the CPython run of the firmware tests; MicroPython has the real module.
Viper/native decorators become no-ops: viper code must mask explicitly so that it computes the
same values on 32-bit ESP32 words, 64-bit unix words and unbounded CPython ints.
"""


def const(value):
    return value


def native(fn):
    return fn


def viper(fn):
    return fn


def mem_current():
    return 0


def mem_peak():
    return 0


# Viper builtins for firmware that runs viper code under CPython (the compiler injects them on
# MicroPython). Stores into a ptr must already be masked to the element width, as on the device.
def ptr8(buf):
    return memoryview(buf).cast("B")


def ptr16(buf):
    return memoryview(buf).cast("B").cast("H")


def ptr32(buf):
    return memoryview(buf).cast("B").cast("I")


def uint(value):
    return value & 0xFFFFFFFF
