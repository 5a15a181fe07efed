"""The door's boot as deployed, under the real MicroPython unix port with the core compiled to
.mpy: a staged trust bundle is installed at boot (verified, bundle and cache written), then a
fresh boot opens the list from the cache and checks certificates under `-X heapsize=64K`
(docs/FIRMWARE_CORE.md "Memory"). The scripts are gerbang_dev/bench/check.py's.

MicroPython is deterministic given the same inputs, and the one input that varied between
runs was the length of the paths: every module's `__file__`, `sys.path` and the store's file
names are interned in the heap (~1 KB more for 50 more characters, and a different layout).
So the door and the compiled core live in directories of a fixed, door-like length
(`short_dir`), and the typical door must pass with MARGIN_KIB to spare (3 KiB: at 61K).

On each interpreter of gerbang_dev/interpreters.py (core compiled for its arch). The 32-bit
one (the ESP32's word size: 4-byte objects) has more room, and holds more: MARGINS."""

from __future__ import annotations

import os
import shutil

import pytest

from gerbang_dev.bench.check import (
    AREA,
    MARGIN_KIB,
    NOW,
    boot,
    boot_and_check,
    boot_dir,
    compile_mpy,
    golden_door,
    read_fixture,
    short_dir,
    typical_fixture,
)
from gerbang_dev.interpreters import ALL, Interpreter

LOAD_TIME = ("gerbang.trustverify", "gerbang.trustinstall", "gerbang.trustcache",
             "gerbang.ed25519_tables", "gerbang.ed25519_oneoff", "gerbang.cbor_enc")


# KiB to spare at 64K on the 32-bit interpreter (measured by `make bench`, check part:
# typical 16 KiB, golden 13 KiB); the 64-bit port: MARGIN_KIB for the typical door, 0 golden
MARGINS = {"unix64": {"typical": MARGIN_KIB, "golden": 0},
           "unix32": {"typical": 12, "golden": 10}}


@pytest.fixture(scope="module", params=ALL, ids=[i.name for i in ALL])
def interp(request: pytest.FixtureRequest) -> Interpreter:
    why = request.param.missing()
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture(scope="module")
def base(interp: Interpreter):
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def mpy(base: str, interp: Interpreter) -> str:
    return compile_mpy(os.path.join(base, "m"), interp)


def _installed(d: str, mpy: str, bundle: bytes, root: bytes, area: int, certs,
               interp: Interpreter) -> None:
    boot_dir(d, bundle, root, certs)
    lines, err = boot(d, mpy, "160K", area, "install", interp)
    assert lines and lines[0].startswith("load 1 cache "), (lines, err[-2000:])
    assert not os.path.exists(os.path.join(d, "trust.bin.new"))
    assert os.path.exists(os.path.join(d, "trust.bin.cache"))


def _modules(lines: list[str]) -> list[str]:
    return next(x for x in lines if x.startswith("modules ")).split()[1:]


@pytest.mark.parametrize("spare", [False, True], ids=["64K", "64K-margin"])
def test_typical_door_boots_from_cache_and_checks_at_64k(mpy: str, base: str, tmp_path,
                                                         spare: bool, interp: Interpreter) -> None:
    heap = 64 - (MARGINS[interp.name]["typical"] if spare else 0)
    fx = str(tmp_path / "fixture")
    typical_fixture(fx)
    bundle, root, qr = read_fixture(fx)
    d = os.path.join(base, "t")
    _installed(d, mpy, bundle, root, AREA, [(NOW, 0, qr)] * 5, interp)
    ok, lines, err = boot_and_check(d, mpy, f"{heap}K", AREA, interp)
    assert ok, (lines, err[-2000:])
    assert [x for x in lines if x.startswith("d ")] == [x for x in lines if x.startswith("d 1 0 ")]
    assert len([x for x in lines if x.startswith("d 1 0 ")]) == 5
    mods = _modules(lines)
    assert "gerbang.check" in mods and not set(LOAD_TIME) & set(mods)


def test_every_golden_certificate_at_64k(mpy: str, base: str, interp: Interpreter) -> None:
    bundle, root, area, certs, want = golden_door()
    d = os.path.join(base, "g")
    _installed(d, mpy, bundle, root, area, certs, interp)
    ok, lines, err = boot_and_check(d, mpy, "200K", area, interp)  # the decisions themselves
    assert ok and [x for x in lines if x.startswith("d ")] == want, (lines, err[-2000:])
    heap = 64 - MARGINS[interp.name]["golden"]
    ok, lines, err = boot_and_check(d, mpy, f"{heap}K", area, interp)
    assert ok, (lines, err[-2000:])
    assert not set(LOAD_TIME) & set(_modules(lines))
    assert [x for x in lines if x.startswith("d ")] == want


# The longest revocation list held at 112K (docs/FIRMWARE_CORE.md "Largest trust list"): the
# firmware's cap, 8,192 ids, on both interpreters (installed from the file, searched there)
LONGEST = {"unix64": 8192, "unix32": 8192}


def test_longest_revocation_list_installs_and_checks_at_112k(mpy: str, base: str,
                                                             interp: Interpreter) -> None:
    from gerbang_dev.bench.revoked import fits

    assert fits(LONGEST[interp.name], interp, mpy, base)
