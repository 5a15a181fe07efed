"""Smoke test of the crypto benchmark parts (no valgrind): the naive reference is a correct
verifier, and the MicroPython bench script runs each operation it is timed on."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RFC = os.path.join(ROOT, "tests", "vectors", "external", "rfc8032", "rfc8032_7_1_ed25519.json")


@pytest.fixture(scope="module")
def naive():
    for p in (os.path.join(ROOT, "tests", "firmware", "shim"), os.path.join(ROOT, "firmware")):
        if p not in sys.path:
            sys.path.insert(0, p)
    from gerbang_dev.bench import naive_ed25519

    return naive_ed25519


def test_naive_reference_verifies_rfc8032_and_rejects_tampering(naive) -> None:
    with open(RFC) as f:
        vectors = json.load(f)["vectors"]
    for v in vectors:
        pub, msg, sig = (bytes.fromhex(v[k]) for k in ("public_key", "message", "signature"))
        assert naive.verify(pub, msg, sig)
        assert not naive.verify(pub, msg + b"x", sig)
        assert not naive.verify(pub, msg, sig[:63] + bytes([sig[63] ^ 0x10]))


@pytest.mark.parametrize("op", ["verify", "naive", "sha", "none"])
def test_micropython_bench_script_runs(op: str) -> None:
    from gerbang_dev.bench import crypto

    proc = crypto._mp([op, "1", *crypto._key_and_sig()])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_room_search_reports_a_bounded_transient() -> None:
    from gerbang_dev.bench import crypto

    keys = crypto._key_and_sig()
    assert crypto._room_ok(16 * 1024, keys)
    assert not crypto._room_ok(0, keys)
