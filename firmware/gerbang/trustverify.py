"""Verifying a trust bundle (docs/PROTOCOL.md §3-4): pinned root -> key certificate -> trust
list; and a key certificate alone (the sync response's signer).

Load-time code only: gerbang.trustinstall imports this module when a bundle is installed or
its cache rebuilt, gerbang.syncproto for a sync answer; both drop it again afterwards (~8 KB
of heap the scan path never needs; a boot from the cache never imports it).
The chain signatures are one-off verifies (no comb table); only the issuer keys get one."""

import gc

from micropython import const

from gerbang import cbor, cose, ed25519
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import Key, TrustList, drop

ROLE_TRUSTLIST_SIGNER = const(1)
MAX_KEYS = const(16)
MAX_REVOKED = const(8192)
MAX_OTHER_KIDS = const(64)
MAX_BUNDLE = const(73728)  # 72 KiB: 8,192 ids and 16 keys
MAX_KEYCERT = const(1024)
_U32 = const(0xFFFFFFFF)


def _fail(msg):
    raise Reject(NO_TRUST, msg)


def _uint(v, what):
    if type(v) is not int or v < 0 or v > _U32:
        _fail(what + " must be an unsigned integer <= 2**32-1")
    return v


def _bstr(v, what, size=None, maximum=None):
    if not isinstance(v, (bytes, memoryview)) or (size is not None and len(v) != size):
        _fail(what + " must be a byte string" + ("" if size is None else " of %d bytes" % size))
    if maximum is not None and len(v) > maximum:
        _fail(what + " is too long")
    return v


def _get(m, label, what):
    if label not in m:
        _fail(what + " is missing")
    return m[label]


def _map(v, what):
    if type(v) is not dict:
        _fail(what + " must be a map")
    return v


def _verified(data, pub, what, src=None):
    """COSE_Sign1 in data (a memoryview) verified with the raw public key pub -> payload.
    src = (feeder, length) (gerbang.trustfile): the signed payload is the one the feeder
    hashes, not msg.payload."""
    try:
        msg = cose.decode(data, True)
    except Reject as e:
        _fail(what + ": " + e.args[0])
    parts = sig_parts(msg.protected, msg.payload) if src is None else \
        sig_parts(msg.protected, src[0], src[1])
    if not ed25519.verify(pub, parts, msg.signature):
        _fail(what + ": signature does not verify")
    gc.collect()  # the verify's garbage goes now, so what is kept next is allocated low
    return msg.payload


def sig_parts(protected, payload, n=None):
    """cose.sig_structure as (head, payload) for ed25519.verify: the payload (a view into a
    bundle or sync answer, tens of KB with thousands of revocations) is not copied. n: the
    payload's length when payload is a feeder (a callable that hashes it, _feeder)."""
    if n is None:
        n = len(payload)
    head = cose.sig_structure(protected, b"")[:-1]  # up to the payload's bstr head
    if n < 24:
        head.append(0x40 | n)
    elif n < 0x100:
        head += bytes((0x58, n))
    elif n < 0x10000:
        head += bytes((0x59, n >> 8, n & 0xFF))
    else:
        head += bytes((0x5A, n >> 24, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF))
    return (head, payload)


def open_keycert(raw, root_pub, now=None):
    """Key certificate (§3) verified under the pinned root -> (signer pub, not_after).
    Raises Reject(NO_TRUST); now=None skips the validity check (clock unknown)."""
    signer, _, na = _keycert(raw, root_pub, now)
    return signer, na


def _keycert(raw, root_pub, now):
    # -> (signer pub, not_before, not_after)
    if len(raw) > MAX_KEYCERT:
        _fail("keycert over %d bytes" % MAX_KEYCERT)
    try:
        kc = _map(cbor.loads(_verified(memoryview(raw), root_pub, "key certificate"),
                             NO_TRUST), "key certificate")
    except Reject as e:
        _fail("key certificate: " + e.args[0])
    role = _uint(_get(kc, 1, "role"), "role")
    signer = _bstr(_get(kc, 2, "pub"), "signer pub", 32)
    nb = _uint(_get(kc, 3, "not_before"), "not_before")
    na = _uint(_get(kc, 4, "not_after"), "not_after")
    if role != ROLE_TRUSTLIST_SIGNER:
        _fail("key certificate role %d is not trust-list signer" % role)
    if now is not None and not nb <= now < na:
        _fail("key certificate is outside its validity")
    return bytes(signer), nb, na


def _ids(m, label, what, most):
    """A bstr of sorted, distinct 8-byte ids (revoked hashes, other areas' kids); label 9
    (other kids) may be absent."""
    rv = _bstr(_get(m, label, what) if label == 7 else m.get(label, b""), what,
               maximum=8 * most)
    if len(rv) & 7:
        _fail(what + " must be whole 8-byte ids")
    for o in range(8, len(rv), 8):  # or the binary search lies
        c = 0
        for i in range(8):
            c = rv[o + i] - rv[o - 8 + i]
            if c:
                break
        if c <= 0:
            _fail(what + " must be sorted and distinct")
    return rv


def open_bundle(bundle, root_pub, now=None, build=True, src=None):
    """Verify a trust bundle (§4) against the pinned root; returns a TrustList or raises
    Reject(NO_TRUST). now=None skips the key certificate's validity (clock unknown).
    build=False: everything is checked (issuer keys decoded too) but the per-key tables are
    not built yet; returns (TrustList, pending) for build_keys(tl, pending)."""
    if len(bundle) > MAX_BUNDLE:
        _fail("bundle over %d bytes" % MAX_BUNDLE)
    try:
        parts = cbor.loads(memoryview(bundle), NO_TRUST, True)
    except Reject as e:
        _fail("bundle: " + e.args[0])
    if type(parts) is not list or len(parts) != 2:
        _fail("a trust bundle is [keycert, trustlist]")
    signer, nb, na = _keycert(_bstr(parts[0], "keycert"), root_pub, now)
    payload = _verified(_bstr(parts[1], "trust list"), signer, "trust list", src)
    parts = None
    drop(("ed25519_oneoff",))  # the chain is verified: make room before the tables
    try:
        m = _map(cbor.loads(payload, NO_TRUST, True), "trust list")
    except Reject as e:
        _fail("trust list: " + e.args[0])
    tl = TrustList()
    tl.signer_pub = signer
    tl.signer_not_before = nb
    tl.signer_not_after = na
    tl.area = _uint(_get(m, 1, "area"), "area")
    if not 1 <= tl.area <= 18:
        _fail("area %d is not 1-18" % tl.area)
    raw_keys = _get(m, 5, "keys")
    if type(raw_keys) is not list or len(raw_keys) > MAX_KEYS:
        _fail("keys must be a list of at most %d" % MAX_KEYS)
    for k in raw_keys:
        if type(k) is not list or len(k) != 5:
            _fail("a key entry is [kid, pub, accept_from, accept_until, area]")
        _bstr(k[0], "kid", 8)
        _bstr(k[1], "pub", 32)
        for i in (2, 3, 4):
            _uint(k[i], "key field %d" % i)
    p = _map(_get(m, 6, "policy"), "policy")
    tl.min_doses = _uint(p.get(1, 0), "policy field 1")  # defaults: §4
    tl.categories = _uint(p.get(2, 0b111110), "policy field 2")
    tl.clock_policy = _uint(p.get(3, 1), "policy field 3")
    tl.max_unsynced = _uint(p.get(4, 7 * 86400), "policy field 4")
    tl.reuse_window = _uint(p.get(5, 0), "policy field 5")
    rv = _ids(m, 7, "revoked", MAX_REVOKED)  # (gerbang.trustfile: an empty stand-in)
    tl.others = bytes(_ids(m, 9, "other_kids", MAX_OTHER_KIDS))  # small: a copy
    tl.serial = _uint(_get(m, 2, "serial"), "serial")
    tl.issued = _uint(_get(m, 3, "issued"), "issued")
    tl.expires = _uint(_get(m, 4, "expires"), "expires")
    tl.tag_key = bytes(_bstr(_get(m, 8, "tag_key"), "tag_key", 16))
    # a view into the bundle, not a copy: with thousands of revocations bundle + copy did not
    # fit the ESP32's heap at install; the list in use is read back from the cache (or copied
    # by trustinstall.opened)
    tl.revoked = rv
    from gerbang import ed25519_tables

    pending = []
    for k in raw_keys:  # decode every key now: after this only memory can fail
        kid = bytes(k[0])
        pub = bytes(k[1])
        try:
            pt = ed25519_tables.point(pub)
        except ValueError:
            _fail("issuer key %s is not a valid Ed25519 point" % kid.hex())
        pending.append((kid, pub, pt, k[2], k[3], k[4]))
    m = raw_keys = k = None
    if not build:
        return tl, pending
    build_keys(tl, pending)
    return tl


def build_keys(tl, pending):
    """Pay for the per-key tables (the list is fully checked already)."""
    while pending:
        kid, pub, pt, af, au, area = pending.pop(0)
        gc.collect()  # each table lands in the lowest free room, not among the last garbage
        tl.keys.setdefault(kid, []).append(Key(kid, ed25519.PublicKey(pub, pt), af, au, area))
