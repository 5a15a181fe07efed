"""The door's decision (docs/PROTOCOL.md §7): every golden case, no-trust, clock policy,
reuse window, and check() never raising."""

import os

from fakes import tmpdir
from fwtest import GOLDEN, check, golden_stream, trust_install, trust_load
from gerbang import reasons as R
from gerbang.check import Checker, Decision
from gerbang.truststore import TrustStore

_PATH = tmpdir("check") + "/trust.bin"  # unique per process: runs can overlap
_G = None


def _golden():
    global _G
    if _G is None:
        # only the fields (the certificates are streamed by _cases(), never all held: a heap
        # fragmented by 26 parsed certificates made an install's 1,920-byte block miss)
        _G = {k: int(v) if v.isdigit() else v
              for k, v in golden_stream(("now", "area", "root_pub", "bundle"))}
    return _G


def _cases():
    """The golden certificate cases one at a time (same fields as fwtest.golden())."""
    with open(GOLDEN + "/golden_fw.txt") as f:
        for line in f:
            if not line.startswith("cert "):
                continue
            p = line.rstrip("\n").split(" ", 8)
            yield {"name": p[1], "allow": p[2] == "1", "reason": int(p[3]),
                   "clock_quality": int(p[4]), "flags": int(p[5]),
                   "kid": None if p[6] == "-" else p[6],
                   "subject_tag": None if p[7] == "-" else p[7], "qr": p[8]}


def _store():
    g = _golden()
    try:
        os.remove(_PATH)
    except OSError:
        pass
    st = TrustStore(_PATH, bytes.fromhex(g["root_pub"]), g["area"])
    check(trust_install(st, bytes.fromhex(g["bundle"]), g["now"]))
    return st


def _case(name):
    for c in _cases():
        if c["name"] == name:
            return c
    raise KeyError(name)


def _hex(b):
    return None if b is None else bytes(b).hex()


def test_every_golden_case():
    g = _golden()
    c = Checker(_store(), g["area"])
    n = 0
    for case in _cases():
        d = c.check(case["qr"], g["now"], case["clock_quality"])
        got = (d.allow, d.reason, _hex(d.kid), _hex(d.subject_tag), d.flags)
        want = (case["allow"], case["reason"], case["kid"], case["subject_tag"], case["flags"])
        check(got == want, "%s: got %r want %r" % (case["name"], got, want))
        n += 1
    check(n >= 13)


def test_qr_as_bytes_from_the_scanner():
    g = _golden()
    c = Checker(_store(), g["area"])
    for name in ("valid", "bad_base45", "wrong_prefix"):
        case = _case(name)
        d = c.check(case["qr"].encode(), g["now"], 0)
        check(d.reason == case["reason"], name)


def test_no_trust():
    g = _golden()
    qr = _case("valid")["qr"]
    st = TrustStore(_PATH + ".none", bytes.fromhex(g["root_pub"]), g["area"])
    trust_load(st, g["now"])
    d = Checker(st, g["area"]).check(qr, g["now"], 0)
    check(not d.allow and d.reason == R.NO_TRUST and d.kid is None)
    st = _store()
    c = Checker(st, g["area"])
    check(c.check(qr, st.trust.expires, 0).reason == R.NO_TRUST)  # list expired
    check(c.check(qr, st.trust.issued - 1, 0).reason == R.NO_TRUST)  # not yet issued
    check(Checker(st, 2).check(qr, g["now"], 0).reason == R.NO_TRUST)  # list of another area
    check(c.check("GB1:", g["now"], 0).reason == R.INFLATE)  # unreadable stays unreadable


def test_clock_policy():
    g = _golden()
    st = _store()
    c = Checker(st, g["area"])
    qr = _case("valid")["qr"]
    for quality in (1, 2):
        d = c.check(qr, g["now"], quality)
        check(d.allow and d.flags == 1)
    st.trust.clock_policy = 0  # deny when the clock is stale
    for quality in (1, 2):
        d = c.check(qr, g["now"], quality)
        check(not d.allow and d.reason == R.CLOCK and d.subject_tag is not None)
    d = c.check(qr, g["now"], 0)
    check(d.allow and d.flags == 0)
    # an earlier reason wins over the clock
    check(c.check(_case("expired")["qr"], g["now"], 2).reason == R.EXPIRED)


def test_reuse_window():
    g = _golden()
    st = _store()
    st.trust.reuse_window = 60
    c = Checker(st, g["area"])
    qr = _case("valid")["qr"]
    now = g["now"]
    check(c.check(qr, now, 0).allow)
    check(c.check(_case("valid_recovery")["qr"], now + 1, 0).allow)  # another certificate
    check(c.check(qr, now + 10, 0).reason == R.REUSE)
    check(c.check(qr, now + 69, 0).reason == R.REUSE)  # every scan restarts the window
    check(c.check(qr, now + 130, 0).allow)
    c.forget()
    check(c.check(qr, now + 131, 0).allow)


def test_never_raises():
    g = _golden()
    st = _store()
    c = Checker(st, g["area"])
    for text in (None, 12, b"", "", "GB1", "GB1:" + "0" * 596, "gb1:00", "GB1:\u00e9\u00e9\u00e9",
                 bytearray(b"GB1:00"), memoryview(b"GB1:FGW"), "x" * 2000):
        d = c.check(text, g["now"], 0)
        if not (isinstance(d, Decision) and not d.allow and d.reason != R.INTERNAL):
            check(False, repr(text)[:40])  # (the message only on failure: repr of 2000 chars)
    check(c.check(None, g["now"], 0).reason == R.PREFIX)
    check(c.check("x" * 601, g["now"], 0).reason == R.TOO_LONG)
    st.trust.keys = None  # a corrupted store: an internal error, denied
    d = c.check(_case("valid")["qr"], g["now"], 0)
    check(not d.allow and d.reason == R.INTERNAL)
