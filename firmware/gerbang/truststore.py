"""The door's trust list (docs/PROTOCOL.md §3-4), resident part: the held list and its lookups,
and the boot path that opens the list from its verified cache (docs/FIRMWARE_CORE.md).

Files, all replaced atomically (tmp + rename): `path` is the bundle as received (the evidence
and the source of truth), `path.cache` what the scan path needs from it, derived once when the
bundle was verified (fields, revocations, every key's comb table, the base point's table; a
SHA-256 of the bundle it came from and one of itself), `path.new` a bundle staged for
installation at the next boot. Verifying a bundle (gerbang.trustload, gerbang.trustinst and
the load-time crypto) is imported only when a bundle is installed or the cache must be rebuilt,
and dropped afterwards: a boot from a good cache never loads it. A broken stored bundle means
no trust (every scan NO_TRUST); a broken cache only means a rebuild from the bundle."""

import gc
import os
import sys

from gerbang import ed25519  # noqa: F401 - the keys' verify is scan path: import it at boot,
from gerbang.reasons import NO_TRUST, Reject  # while the heap is empty, not in the first load


class Rollback(Reject):
    """A bundle with a lower serial than the one held (replayed old list)."""


def _loader():
    from gerbang import trustload

    return trustload


def _installer():
    from gerbang import trustinst

    return trustinst


def _cache():
    from gerbang import trustcache

    return trustcache


def drop(names):
    """Forget load-time modules (gerbang.<name>) after use. Deployed as .mpy their bytecode
    sits in the heap and importing them again costs little (~10 KB transient): drop them.
    Compiled from source (the unix-port tests) the compiler would need ~35-50 KB for the next
    import: keep them. Frozen or ROMFS code runs from flash and keeps only its globals in the
    heap: keeping it costs little either."""
    import gerbang

    for name in names:
        mod = sys.modules.get("gerbang." + name)
        if mod is not None and getattr(mod, "__file__", "").endswith(".mpy"):
            del sys.modules["gerbang." + name]
            if hasattr(gerbang, name):
                delattr(gerbang, name)
        mod = None
    gc.collect()


def _drop_loader():
    drop(("trustcache", "trustinst", "trustload", "ed25519_one", "ed25519_make"))


def open_keycert(raw, root_pub, now=None):
    """Key certificate (§3) under the pinned root -> (signer pub, not_after); see trustload."""
    try:
        return _loader().open_keycert(raw, root_pub, now)
    finally:
        _drop_loader()


def open_bundle(bundle, root_pub, now=None):
    """Verify a trust bundle (§4) -> TrustList, or Reject(NO_TRUST); see trustload."""
    try:
        return _loader().open_bundle(bundle, root_pub, now)
    finally:
        _drop_loader()


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
    (one bytes object, no per-entry objects)."""

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


class TrustStore:
    """The trust list of one door (area), stored at `path` (cache `path.cache`, staged bundle
    `path.new`). `trust` is the TrustList or None; `error` says why there is none; `source`
    says where the held list came from ("cache", or "bundle" when the cache was rebuilt);
    `pending_error` why a staged bundle was refused at the last load (None if none was)."""

    def __init__(self, path, root_pub, area):
        self.path = path
        self.cache = path + ".cache"
        self.pending = path + ".new"
        self.root_pub = bytes(root_pub)
        self.area = area
        self.trust = None
        self.error = "not loaded"
        self.source = None
        self.pending_error = None

    @property
    def serial(self):
        return self.trust.serial if self.trust else 0

    def _open(self, bundle, now):
        """A bundle verified in RAM (tables built), not stored: for tests and tools."""
        tl = open_bundle(bundle, self.root_pub, now)
        if tl.area != self.area:
            raise Reject(NO_TRUST, "trust list is for area %d, this door is area %d"
                         % (tl.area, self.area))
        return tl

    def load(self, now=None):
        """Boot: install the staged bundle if there is one, then open the list from its cache
        (rebuilt from the bundle, fully verified, when missing or not matching it). Never
        raises: returns True when a list is held. now=None: clock unknown (the key
        certificate's validity is not checked). See gerbang.trustcache."""
        try:
            return _cache().load(self, now)
        finally:
            drop(("trustcache",))

    def install(self, bundle, now):
        """Validate a new bundle fully, then store it and its cache atomically and use it.
        Returns True when installed, False when it is the list already held (same serial).
        Raises Reject(NO_TRUST) for a bad bundle and Rollback for a lower serial. The held
        list is let go once the new one is checked and stored (two lists' tables at once
        would not fit the door's heap); if the cache cannot be read back, no list is held
        until load(). With the scan path loaded this needs more heap than stage() + load()
        at boot (docs/FIRMWARE_CORE.md)."""
        try:
            done = _installer().install(self, bundle, now, self.serial)
            if done:
                self.trust = None
                gc.collect()
                self.trust = _cache().read(self, now)
                self.error = None
                self.source = "bundle"
            return done
        finally:
            _drop_loader()

    def stage(self, bundle):
        """Store a bundle (e.g. from a sync response) to be installed by the next load(), at
        boot, before the scan path is imported. Nothing is verified here."""
        tmp = self.pending + ".tmp"
        with open(tmp, "wb") as f:
            f.write(bundle)
        os.rename(tmp, self.pending)
