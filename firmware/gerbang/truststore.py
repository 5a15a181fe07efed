"""The door's trust list (docs/PROTOCOL.md §3-4): pinned root -> key certificate -> trust list.

open_bundle() checks the whole chain and builds every issuer key's ed25519.PublicKey once (its
tables are costly; a scan only looks keys up). TrustStore keeps the current list in a file:
install() validates fully, refuses rollback, and replaces the file atomically (tmp + rename)
so a power cut leaves the old or the new list, never half of one. A broken stored file at boot
means no trust (every scan NO_TRUST), never a crash."""

import os

from micropython import const

from gerbang import cbor, cose
from gerbang.reasons import NO_TRUST, Reject

ROLE_TRUSTLIST_SIGNER = const(1)
MAX_KEYS = const(16)
MAX_REVOKED = const(4096)
MAX_BUNDLE = const(40960)
MAX_KEYCERT = const(1024)
_U32 = const(0xFFFFFFFF)
_BYTES = (bytes, memoryview)
_POLICY_DEFAULTS = (0, 0b111110, 1, 7 * 86400, 0)  # labels 1..5 (§4)


class Rollback(Reject):
    """A bundle with a lower serial than the one held (replayed old list)."""


def _fail(msg):
    raise Reject(NO_TRUST, msg)


def _uint(v, what):
    if type(v) is not int or v < 0 or v > _U32:
        _fail(what + " must be an unsigned integer <= 2**32-1")
    return v


def _bstr(v, what, size=None, maximum=None):
    if not isinstance(v, _BYTES) or (size is not None and len(v) != size):
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


def _verified(data, pub, what):
    """COSE_Sign1 in data (a memoryview) verified with the raw public key pub -> payload."""
    from gerbang import ed25519

    try:
        msg = cose.decode(data, True)
    except Reject as e:
        _fail(what + ": " + e.args[0])
    if not ed25519.verify(bytes(pub), cose.sig_structure(msg.protected, msg.payload),
                          bytes(msg.signature)):
        _fail(what + ": signature does not verify")
    return msg.payload


class Key:
    """A trusted issuer key: PublicKey built once, plus its accept window."""

    __slots__ = ("kid", "pub", "accept_from", "accept_until", "area")

    def __init__(self, kid, pub, accept_from, accept_until, area):
        self.kid = kid
        self.pub = pub
        self.accept_from = accept_from
        self.accept_until = accept_until
        self.area = area

    def verify(self, msg, sig):
        return self.pub.verify(msg, sig)


class TrustList:
    """One opened, verified trust list. `revoked` is the sorted 8-byte hash bstr as received
    (a view of the bundle bytes, which this object keeps alive): no per-entry objects."""

    def __init__(self):
        self.keys = {}  # kid bytes -> [Key, ...] (kids can collide)

    def keys_for(self, kid):
        return self.keys.get(kid)

    def valid_at(self, now):
        return self.issued <= now < self.expires

    def is_revoked(self, h):
        """Binary search of the 8-byte hash h in the sorted revocation bstr."""
        r = self.revoked
        lo = 0
        hi = len(r) >> 3
        while lo < hi:
            mid = (lo + hi) >> 1
            o = mid << 3
            c = 0
            for i in range(8):
                c = r[o + i] - h[i]
                if c:
                    break
            if not c:
                return True
            if c < 0:
                lo = mid + 1
            else:
                hi = mid
        return False


def open_keycert(raw, root_pub, now=None):
    """Key certificate (§3) verified under the pinned root -> (signer pub, not_after).
    Raises Reject(NO_TRUST); now=None skips the validity check (clock unknown)."""
    if len(raw) > MAX_KEYCERT:
        _fail("keycert over %d bytes" % MAX_KEYCERT)
    try:
        kc = _map(cbor.loads(_verified(raw, root_pub, "key certificate"), NO_TRUST),
                  "key certificate")
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
    return bytes(signer), na


def open_bundle(bundle, root_pub, now=None):
    """Verify a trust bundle (§4) against the pinned root; returns a TrustList or raises
    Reject(NO_TRUST). now=None skips the key certificate's validity (clock unknown)."""
    from gerbang import ed25519

    if len(bundle) > MAX_BUNDLE:
        _fail("bundle over %d bytes" % MAX_BUNDLE)
    mv = memoryview(bundle)
    try:
        parts = cbor.loads(mv, NO_TRUST, True)
    except Reject as e:
        _fail("bundle: " + e.args[0])
    if type(parts) is not list or len(parts) != 2:
        _fail("a trust bundle is [keycert, trustlist]")
    signer, na = open_keycert(_bstr(parts[0], "keycert"), root_pub, now)
    payload = _verified(_bstr(parts[1], "trust list"), signer, "trust list")
    try:
        m = _map(cbor.loads(payload, NO_TRUST, True), "trust list")
    except Reject as e:
        _fail("trust list: " + e.args[0])
    tl = TrustList()
    tl.signer_pub = signer
    tl.signer_not_after = na
    tl.area = _uint(_get(m, 1, "area"), "area")
    if not 1 <= tl.area <= 18:
        _fail("area %d is not 1-18" % tl.area)
    raw_keys = _get(m, 5, "keys")
    if type(raw_keys) is not list or len(raw_keys) > MAX_KEYS:
        _fail("keys must be a list of at most %d" % MAX_KEYS)
    entries = []
    for k in raw_keys:
        if type(k) is not list or len(k) != 5:
            _fail("a key entry is [kid, pub, accept_from, accept_until, area]")
        entries.append((bytes(_bstr(k[0], "kid", 8)), bytes(_bstr(k[1], "pub", 32)),
                        _uint(k[2], "accept_from"), _uint(k[3], "accept_until"),
                        _uint(k[4], "key area")))
    p = _map(_get(m, 6, "policy"), "policy")
    pol = [_uint(p.get(i + 1, d), "policy field %d" % (i + 1)) for i, d in
           enumerate(_POLICY_DEFAULTS)]
    tl.min_doses, tl.categories, tl.clock_policy, tl.max_unsynced, tl.reuse_window = pol
    rv = _bstr(_get(m, 7, "revoked"), "revoked", maximum=8 * MAX_REVOKED)
    if len(rv) & 7:
        _fail("revoked must be whole 8-byte hashes")
    for o in range(8, len(rv), 8):  # sorted and distinct, or the binary search lies
        c = 0
        for i in range(8):
            c = rv[o + i] - rv[o - 8 + i]
            if c:
                break
        if c <= 0:
            _fail("revoked hashes must be sorted and distinct")
    tl.revoked = rv
    tl.serial = _uint(_get(m, 2, "serial"), "serial")
    tl.issued = _uint(_get(m, 3, "issued"), "issued")
    tl.expires = _uint(_get(m, 4, "expires"), "expires")
    tl.tag_key = bytes(_bstr(_get(m, 8, "tag_key"), "tag_key", 16))
    # Only now, with everything valid, pay for the per-key tables.
    for kid, pub, af, au, area in entries:
        try:
            key = Key(kid, ed25519.PublicKey(pub), af, au, area)
        except ValueError:
            _fail("issuer key %s is not a valid Ed25519 point" % kid.hex())
        tl.keys.setdefault(kid, []).append(key)
    return tl


class TrustStore:
    """The trust list of one door (area), stored at `path`. `trust` is the TrustList or None;
    `error` says why there is none."""

    def __init__(self, path, root_pub, area):
        self.path = path
        self.root_pub = bytes(root_pub)
        self.area = area
        self.trust = None
        self.error = "not loaded"

    @property
    def serial(self):
        return self.trust.serial if self.trust else 0

    def _open(self, bundle, now):
        tl = open_bundle(bundle, self.root_pub, now)
        if tl.area != self.area:
            _fail("trust list is for area %d, this door is area %d" % (tl.area, self.area))
        return tl

    def load(self, now=None):
        """Open the stored bundle. Never raises: returns True when a list is held."""
        self.trust = None
        try:
            with open(self.path, "rb") as f:
                data = f.read()
            self.trust = self._open(data, now)
            self.error = None
            return True
        except OSError:
            self.error = "no trust list stored"
        except Exception as e:  # a broken file means no trust, never a crash at boot
            self.error = "stored trust list refused: %s" % (e.args[0] if e.args else e)
        return False

    def install(self, bundle, now):
        """Validate a new bundle fully, then store it atomically and use it. Returns True when
        installed, False when it is the list already held (same serial). Raises
        Reject(NO_TRUST) for a bad bundle and Rollback for a lower serial."""
        tl = self._open(bundle, now)
        if not now < tl.expires:
            _fail("trust list expired")
        held = self.trust
        if held is not None:
            if tl.serial < held.serial:
                raise Rollback(NO_TRUST, "rollback refused: serial %d is lower than the held %d"
                               % (tl.serial, held.serial))
            if tl.serial == held.serial:
                return False
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(bundle)
        os.rename(tmp, self.path)  # atomic on littlefs and POSIX
        self.trust = tl
        self.error = None
        return True
