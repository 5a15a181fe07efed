"""The server's device config (docs/PROTOCOL.md §6 label 7, docs/FIRMWARE.md "Sync"): the sync
boot keeps the known, in-range values (gerbang.sync.parse_config), stores them on flash only when
they changed (store_config), and main.py's start() merges them over config.json."""

import json
import os

import main

from fakes import rmtree as _rmtree
from fwtest import check
from gerbang.sync import OVERRIDE, parse_config, store_config

_n = [0]


def _tmpdir():
    _n[0] += 1
    base = "/tmp/gerbang_synccfg_%d_%d" % (os.getpid() if hasattr(os, "getpid") else 0, _n[0])
    _rmtree(base)
    os.mkdir(base)
    return base


def _read(path):
    with open(path) as f:
        return json.load(f)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def test_parse_keeps_known_keys_in_range():
    over, bad = parse_config({1: 900, 2: 700, 3: 250})
    check(over == {"sync_interval_s": 900, "relay_ms": 700, "scan_debounce_ms": 250}, over)
    check(bad == 0, bad)
    # the range ends are accepted
    over, bad = parse_config({1: 60, 2: 30000, 3: 0})
    check(over == {"sync_interval_s": 60, "relay_ms": 30000, "scan_debounce_ms": 0}, over)
    over, bad = parse_config({1: 86400, 2: 100, 3: 10000})
    check(over == {"sync_interval_s": 86400, "relay_ms": 100, "scan_debounce_ms": 10000}, over)
    check(bad == 0, bad)


def test_parse_ignores_and_counts_bad_entries():
    # out of range on either side, an unknown label, a non-integer value: each ignored, counted
    over, bad = parse_config({1: 59, 2: 999999, 3: 10001, 9: 5})
    check(over == {}, over)
    check(bad == 4, bad)
    over, bad = parse_config({2: 99, 3: 500, 1: 86401})
    check(over == {"scan_debounce_ms": 500} and bad == 2, (over, bad))
    over, bad = parse_config({2: "700", 1: True, 3: 1.5, "2": 700})
    check(over == {} and bad == 4, (over, bad))
    # none set, or not a map at all: nothing to apply; only the latter counts as bad
    check(parse_config(None) == ({}, 0))
    check(parse_config([2, 700]) == ({}, 1))


def test_store_writes_only_changes_and_removes_when_cleared():
    p = _tmpdir() + "/" + OVERRIDE
    check(not store_config({}, p))  # nothing stored, nothing set: no write
    check(not _exists(p))
    check(store_config({"relay_ms": 700}, p))
    check(_read(p) == {"relay_ms": 700})
    check(not _exists(p + ".tmp"))  # written through tmp + rename
    before = os.stat(p)
    check(not store_config({"relay_ms": 700}, p))  # same values: the flash is not touched
    check(os.stat(p) == before)
    check(store_config({"relay_ms": 800, "sync_interval_s": 600}, p))
    check(_read(p) == {"relay_ms": 800, "sync_interval_s": 600})
    check(store_config({}, p))  # the server's config cleared: the provisioned values again
    check(not _exists(p))
    with open(p, "w") as f:
        f.write("{not json")  # damaged: replaced
    check(store_config({"relay_ms": 700}, p))
    check(_read(p) == {"relay_ms": 700})


def _start_in(d):
    """main.start() run in directory d, with build() returning the merged config dict (only
    start()'s reading and merging is under test; m() records the heap: MicroPython only)."""
    cwd = os.getcwd()
    build, m = main.build, main.m
    main.build = lambda c: c
    main.m = lambda: None
    os.chdir(d)
    try:
        return main.start()
    finally:
        os.chdir(cwd)
        main.build, main.m = build, m


def test_main_merges_the_override_over_config_json():
    d = _tmpdir()
    with open(d + "/config.json", "w") as f:
        json.dump({"device_id": "gb-01-0001", "relay_ms": 200, "sync_interval_s": 900,
                   "scan_debounce_ms": 1500}, f)
    c = _start_in(d)
    check(c["relay_ms"] == 200 and c["sync_interval_s"] == 900, c)  # no override: config.json
    over, bad = parse_config({2: 650, 1: 30})  # 30 s: below the door's minimum
    check(bad == 1)
    check(store_config(over, d + "/" + OVERRIDE))
    c = _start_in(d)
    check(c["relay_ms"] == 650, c)  # the server's value wins
    check(c["sync_interval_s"] == 900 and c["scan_debounce_ms"] == 1500, c)  # the others stay
    check(c["device_id"] == "gb-01-0001", c)
    with open(d + "/" + OVERRIDE, "w") as f:
        f.write("{\"relay_ms\": ")  # damaged: ignored, the unit still starts
    c = _start_in(d)
    check(c["relay_ms"] == 200, c)
