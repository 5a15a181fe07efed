"""The device-config contract: the settings the server may send a door (sync response config
map, docs/PROTOCOL.md §6) and the ranges the door applies.

The door (firmware/gerbang/sync.py `_KEYS`, applied by apply_config and merged by main.py)
ignores an unknown label or a value out of range; the server therefore accepts exactly these
keys and ranges and refuses anything else naming the key and the allowed range.
tests/protocol/test_device_config.py compares this table with the firmware's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConfigKey:
    name: str  # the door's config.json key
    label: int  # the sync response's config map label
    lo: int
    hi: int
    unit: str


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("sync_interval_s", 1, 60, 86400, "s"),
    ConfigKey("relay_ms", 2, 100, 30000, "ms"),
    ConfigKey("scan_debounce_ms", 3, 0, 10000, "ms"),
)
BY_NAME = {k.name: k for k in KEYS}
BY_LABEL = {k.label: k for k in KEYS}


class ConfigError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def allowed() -> str:
    return ", ".join(f"{k.name} {k.lo}..{k.hi} {k.unit}" for k in KEYS)


def check(config: dict[str, Any]) -> dict[str, int]:
    """The config as the door will apply it, or ConfigError naming the key and its range."""
    out: dict[str, int] = {}
    for name, value in config.items():
        k = BY_NAME.get(name)
        if k is None:
            raise ConfigError(name, f"unknown config key {name!r}: the door applies {allowed()}")
        if type(value) is not int or not k.lo <= value <= k.hi:
            raise ConfigError(name, f"config {name!r} must be an integer {k.lo}..{k.hi} "
                                    f"({k.unit}), not {value!r}")
        out[name] = value
    return out


def labels(config: dict[str, Any] | None) -> dict[int, int]:
    """Stored config (names) -> the sync response's {label: value}; entries the door would
    ignore are not sent."""
    out: dict[int, int] = {}
    for name, value in (config or {}).items():
        k = BY_NAME.get(name)
        if k is not None and type(value) is int and k.lo <= value <= k.hi:
            out[k.label] = value
    return out
