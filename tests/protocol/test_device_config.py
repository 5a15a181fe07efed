"""The device-config table (gerbang_protocol.device_config) against the firmware that applies it:
the door's own apply_config (firmware/gerbang/sync.py), run under CPython with the micropython
shim, takes every value at the table's bounds and refuses every value just outside them and
every label the table does not name. So whatever the server accepts, the door applies."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gerbang_protocol import device_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Runs in a fresh CPython: firmware/ and the shim on the path, nothing of the host packages.
PROBE = r"""
import json, os, sys, tempfile
from gerbang import sync
cases = json.loads(sys.argv[1])
out = []
d = tempfile.mkdtemp()
for label, value in cases:
    p = os.path.join(d, "over.json")
    if os.path.exists(p):
        os.remove(p)
    changed, bad = sync.apply_config({label: value}, p)
    held = json.load(open(p)) if os.path.exists(p) else {}
    out.append([label, value, bad, held])
print(json.dumps(out))
"""


def door_applies(cases: list[tuple[int, object]]) -> list[tuple[int, object, int, dict]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tests", "firmware", "shim")])}
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    return [tuple(x) for x in json.loads(r.stdout)]


def test_the_door_applies_exactly_the_table() -> None:
    good = [(k.label, v) for k in device_config.KEYS for v in (k.lo, k.hi, (k.lo + k.hi) // 2)]
    bad = [(k.label, v) for k in device_config.KEYS for v in (k.lo - 1, k.hi + 1)]
    for label, value, nbad, held in door_applies(good):
        name = device_config.BY_LABEL[label].name
        assert nbad == 0 and held == {name: value}, (label, value, nbad, held)
    for label, value, nbad, held in door_applies(bad):
        assert nbad == 1 and held == {}, (label, value, nbad, held)
    unknown = [max(device_config.BY_LABEL) + 1, 0]
    for _label, _value, nbad, held in door_applies([(x, 100) for x in unknown]):
        assert nbad == 1 and held == {}


def test_check_accepts_the_bounds_and_names_the_key_and_range() -> None:
    for k in device_config.KEYS:
        assert device_config.check({k.name: k.lo}) == {k.name: k.lo}
        assert device_config.check({k.name: k.hi}) == {k.name: k.hi}
        for v in (k.lo - 1, k.hi + 1, str(k.lo), True, None):
            with pytest.raises(device_config.ConfigError) as e:
                device_config.check({k.name: v})
            assert e.value.key == k.name and f"{k.lo}..{k.hi}" in str(e.value)
    with pytest.raises(device_config.ConfigError) as e:
        device_config.check({"sync_interval": 600})  # the old server-only name
    assert e.value.key == "sync_interval" and "sync_interval_s 60..86400" in str(e.value)


def test_labels_send_only_what_the_door_applies() -> None:
    assert device_config.labels({"sync_interval_s": 600, "relay_ms": 60, "x": 1}) == {1: 600}
    assert device_config.labels(None) == {}
