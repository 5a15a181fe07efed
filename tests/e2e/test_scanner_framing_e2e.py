"""Scanner framing end to end (issue 10): the byte streams that cost a visitor's code, through
the scanner emulator, the UART pty and the firmware on the virtual board."""

from __future__ import annotations

import time

from .conftest import Events, console


def _cert(g: dict, name: str) -> dict:
    return next(c for c in g["certificates"] if c["name"] == name)


def _decisions(ev: Events, wait: float) -> list[dict]:
    time.sleep(wait)
    ev.poll()
    return [e for e in ev.items if e["ev"] == "decision"]


def test_reply_like_noise_and_high_bytes_never_cost_a_code(board):
    vb, em, g = board
    ev = Events(vb)
    valid = _cert(g, "valid")["qr"].encode()
    expired = _cert(g, "expired")["qr"].encode()
    # noise starting 02 00 00 40 right after a CR, then at once (no gap) a visitor's code: it
    # was taken for a 64-byte reply that swallowed the code's first 62 bytes (its tail denied)
    em.send(b"\r\x02\x00\x00\x40\x13\x37\r" + valid + b"\r")
    d = ev.wait(lambda e: e["ev"] == "decision", 10)
    assert d and d["allow"] and d["reason"] == 0, (d, console(vb))
    # a line of bytes 0x80-0xFF (a rate mismatch) is noise, not a code; the next code is read
    em.send(bytes(range(0x80, 0x100)) + b"\r" + b"\xc3\xa9\xff\r" + expired + b"\r")
    time.sleep(0.1)
    got = _decisions(ev, 1.5)
    assert [(e["allow"], e["reason"]) for e in got] == [(True, 0), (False, 11)], (got, console(vb))
    # a late ACK right before a code (the module's reply, no CR of its own) is stripped
    em.send(b"\x02\x00\x00\x01\x00\x33\x31" + _cert(g, "valid_recovery")["qr"].encode() + b"\r")
    got = _decisions(ev, 1.5)
    assert len(got) == 3 and got[-1]["allow"], (got, console(vb))
    assert not [e for e in ev.items if e["ev"] == "error"]
