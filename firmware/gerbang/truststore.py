"""The door's trust list (docs/PROTOCOL.md §3-4), resident part: the store the scan path keeps
(the held list and its lookups) and the staging of a bundle for the next boot.

Files, all replaced atomically (tmp + rename): `path` is the bundle as received (the evidence
and the source of truth), `path.cache` what the scan path needs from it, derived once when the
bundle was verified (its layout is gerbang.trustcache's alone), `path.new` a bundle staged for
installation at the next boot. Opening, verifying and installing a list is the load-time path,
gerbang.trustinstall (over gerbang.trustcache and gerbang.trustverify): the boot calls it once
and drops it; this module never imports it (docs/FIRMWARE_CORE.md). A broken stored bundle
means no trust (every scan NO_TRUST); a broken cache only means a rebuild from the bundle."""

import gc
import sys

# the keys' verify is scan path: imported at boot, while the heap is empty, not in the first load
from gerbang import ed25519  # noqa: F401


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


def listed(r, h):
    """Binary search of the 8-byte id h in the sorted bstr r of 8-byte ids, or in a long list
    left in the trust cache file: r = (path, offset, count), about 13 reads of 8 bytes for
    5,000 ids (gerbang.trustcache.read; a file gone short raises: the scan is denied
    INTERNAL). Here and without new names: each name a boot loads is interned for good, and
    a helper module's few tipped the 64-bit port's app start over a qstr pool step (7 KB)."""
    f = None
    if type(r) is tuple:
        f = open(r[0], "rb")
        hi = r[2]
    else:
        hi = len(r) >> 3
    lo = 0
    try:
        while lo < hi:
            mid = (lo + hi) >> 1
            if f is None:
                b = r[mid << 3:(mid << 3) + 8]
            else:
                f.seek(r[1] + (mid << 3))
                b = f.read(8)
                if len(b) != 8:
                    raise OSError
            if b == h:
                return True
            if b < h:
                lo = mid + 1
            else:
                hi = mid
        return False
    finally:
        if f is not None:
            f.close()


class TrustList:
    """One opened, verified trust list. `revoked` is the sorted 8-byte hash bstr as received
    (one bytes object, no per-entry objects), or for a long list where it lies in the cache
    file (see listed); `others` the sorted kids of other areas' keys
    (label 9): an unknown kid found there is WRONG_AREA, not UNKNOWN_KID."""

    def __init__(self):
        self.keys = {}  # kid bytes -> [Key, ...] (kids can collide)

    def keys_for(self, kid):
        return self.keys.get(kid)

    def valid_at(self, now):
        return self.issued <= now < self.expires



class TrustStore:
    """The trust list of one door (area), stored at `path` (cache `path.cache`, staged bundle
    `path.new`). `trust` is the TrustList or None; `error` says why there is none; `source`
    says where the held list came from ("cache", or "bundle" when the cache was rebuilt);
    `pending_error` why a staged bundle was refused at the last load (None if none was).
    Filled by gerbang.trustinstall (load, install, stage)."""

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
