"""The server's device config (docs/PROTOCOL.md §6 label 7, docs/FIRMWARE.md "Sync"): the sync
boot keeps the known, in-range values and stores them on flash only when they changed
(gerbang.sync.apply_config); gerbang.startup.read_config merges them over config.json."""

import json
import os

from fakes import exists as _exists
from fakes import tmpdir
from fwtest import check
from gerbang.startup import read_config
from gerbang.sync import OVERRIDE, apply_config


def _read(path):
    with open(path) as f:
        return json.load(f)


def test_known_keys_in_range_are_stored():
    p = tmpdir("synccfg") + "/" + OVERRIDE
    check(apply_config({1: 900, 2: 700, 3: 250}, p) == (1, 0))
    check(_read(p) == {"sync_interval_s": 900, "relay_ms": 700, "scan_debounce_ms": 250})
    check(not _exists(p + ".tmp"))  # written through tmp + rename
    # the range ends are accepted
    check(apply_config({1: 60, 2: 30000, 3: 0}, p) == (1, 0))
    check(_read(p) == {"sync_interval_s": 60, "relay_ms": 30000, "scan_debounce_ms": 0})
    check(apply_config({1: 86400, 2: 100, 3: 10000}, p) == (1, 0))
    check(_read(p) == {"sync_interval_s": 86400, "relay_ms": 100, "scan_debounce_ms": 10000})


def test_bad_entries_are_ignored_and_counted():
    p = tmpdir("synccfg") + "/" + OVERRIDE
    # out of range on either side, an unknown label: each ignored and counted, nothing stored
    check(apply_config({1: 59, 2: 999999, 3: 10001, 9: 5}, p) == (0, 4))
    check(not _exists(p))
    check(apply_config({2: 99, 3: 500, 1: 86401}, p) == (1, 2))
    check(_read(p) == {"scan_debounce_ms": 500})
    # not integers (a bool is not one either), a text label
    check(apply_config({2: "700", 1: True, 3: 1.5, "2": 700}, p) == (1, 4))
    check(not _exists(p))  # nothing valid left: the override goes
    # not a map at all: counted, nothing changes
    check(apply_config([2, 700], p) == (0, 1))


def test_written_only_when_changed_and_removed_when_cleared():
    p = tmpdir("synccfg") + "/" + OVERRIDE
    r = apply_config(None, p)  # nothing stored, nothing set: no write
    check(r == (0, 0) and type(r[1]) is int, r)
    check(not _exists(p))
    check(apply_config({2: 700}, p) == (1, 0))
    check(_read(p) == {"relay_ms": 700})
    before = os.stat(p)
    check(apply_config({2: 700, 7: 1}, p) == (0, 1))  # same values: the flash is not touched
    check(os.stat(p) == before)
    check(apply_config({2: 800, 1: 600}, p) == (1, 0))
    check(_read(p) == {"relay_ms": 800, "sync_interval_s": 600})
    check(apply_config(None, p) == (1, 0))  # the server's config cleared: provisioned values
    check(not _exists(p))
    with open(p, "w") as f:
        f.write("{not json")  # damaged: replaced
    check(apply_config({2: 700}, p) == (1, 0))
    check(_read(p) == {"relay_ms": 700})


def _start_in(d):
    """The config the start-up reads in directory d (gerbang.startup.read_config)."""
    cwd = os.getcwd()
    os.chdir(d)
    try:
        return read_config()
    finally:
        os.chdir(cwd)


def test_startup_merges_the_override_over_config_json():
    d = tmpdir("synccfg")
    with open(d + "/config.json", "w") as f:
        json.dump({"device_id": "gb-01-0001", "relay_ms": 200, "sync_interval_s": 900,
                   "scan_debounce_ms": 1500}, f)
    c = _start_in(d)
    check(c["relay_ms"] == 200 and c["sync_interval_s"] == 900, c)  # no override: config.json
    # 30 s: below the door's minimum, ignored
    check(apply_config({2: 650, 1: 30}, d + "/" + OVERRIDE) == (1, 1))
    c = _start_in(d)
    check(c["relay_ms"] == 650, c)  # the server's value wins
    check(c["sync_interval_s"] == 900 and c["scan_debounce_ms"] == 1500, c)  # the others stay
    check(c["device_id"] == "gb-01-0001", c)
    with open(d + "/" + OVERRIDE, "w") as f:
        f.write("{\"relay_ms\": ")  # damaged: ignored, the unit still starts
    c = _start_in(d)
    check(c["relay_ms"] == 200, c)
