"""The door's trust list (docs/PROTOCOL.md §3-4), resident part: the held list and its lookups.

Opening a bundle (chain to the pinned root, every field, the issuer keys' tables) lives in
gerbang.trustload, imported only while a bundle is loaded or installed and dropped afterwards:
load-time code (with gerbang.ed25519_make and _one) does not stay in the heap. install() validates fully, refuses rollback, and
replaces the file atomically (tmp + rename) so a power cut leaves the old or the new list,
never half of one. A broken stored file at boot means no trust (every scan NO_TRUST)."""

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
    drop(("trustload", "ed25519_one", "ed25519_make"))


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
            raise Reject(NO_TRUST, "trust list is for area %d, this door is area %d"
                         % (tl.area, self.area))
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
        Reject(NO_TRUST) for a bad bundle and Rollback for a lower serial.
        The issuer keys' tables are built only after every check passed and the file is
        written, and after the held list is let go (two lists' tables at once would not fit
        the door's heap). If building them runs out of memory, no list is held until load()."""
        loader = _loader()
        try:
            tl, pending = loader.open_bundle(bundle, self.root_pub, now, False)
            if tl.area != self.area:
                raise Reject(NO_TRUST, "trust list is for area %d, this door is area %d"
                             % (tl.area, self.area))
            if not now < tl.expires:
                raise Reject(NO_TRUST, "trust list expired")
            held = self.trust
            if held is not None:
                if tl.serial < held.serial:
                    raise Rollback(NO_TRUST, "rollback refused: serial %d is lower than the "
                                   "held %d" % (tl.serial, held.serial))
                if tl.serial == held.serial:
                    return False
            held = None
            tmp = self.path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(bundle)
            os.rename(tmp, self.path)  # atomic on littlefs and POSIX
            self.trust = None
            self.error = "installing"
            gc.collect()
            loader.build_keys(tl, pending)
            self.trust = tl
            self.error = None
            return True
        finally:
            loader = None
            _drop_loader()
