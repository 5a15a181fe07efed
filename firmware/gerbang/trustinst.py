"""Installing a trust bundle and deriving its cache (docs/FIRMWARE_CORE.md "The trust cache").

Load-time code only, imported by gerbang.truststore for an install or a cache rebuild and
dropped afterwards. The bundle is verified in full (gerbang.trustload) before anything is
written; then the bundle and the cache are each written to a temporary file and renamed over
the old one (bundle first, cache second: a power cut in between leaves a cache that does not
match the bundle's SHA-256, which the next load rebuilds). Each issuer key's comb table is
built into one reused buffer and written out at once, so however many keys a list has, one
table is in RAM while the cache is written."""

import gc
import hashlib
import os
import struct

from gerbang import ed25519, ed25519_make, trustcache, trustload
from gerbang.ed25519_field import new_table
from gerbang.reasons import NO_TRUST, Reject
from gerbang.trustcache import HDR, KEY, MAGIC, VERSION
from gerbang.truststore import Rollback, drop


def _verify(store, bundle, now):
    tl, pending = trustload.open_bundle(bundle, store.root_pub, now, False)
    if tl.area != store.area:
        raise Reject(NO_TRUST, "trust list is for area %d, this door is area %d"
                     % (tl.area, store.area))
    return tl, pending


def opened(store, bundle, now):
    """TrustStore._open(): a bundle verified in RAM with its tables, nothing stored."""
    tl, pending = _verify(store, bundle, now)
    trustload.build_keys(tl, pending)
    return tl


def online(store, bundle, now):
    """TrustStore.install(): install() against the held serial, then read the new cache."""
    done = install(store, bundle, now, store.serial)
    if done:
        store.trust = None
        drop(("trustload", "ed25519_one", "ed25519_make"))  # room for the tables read back
        store.trust = trustcache.read(store, now)
        store.error = None
        store.source = "bundle"
    return done


def install(store, bundle, now, held, src=None):
    """Verify bundle, refuse it if expired at now (None: unknown) or older than the held
    serial, keep it if equal (returns False); else store it (src: the staged file holding
    these bytes, renamed instead of written again), let the held list go and write the cache.
    Returns True; the caller reads the cache."""
    tl, pending = _verify(store, bundle, now)
    if now is not None and not now < tl.expires:
        raise Reject(NO_TRUST, "trust list expired")
    if tl.serial < held:
        raise Rollback(NO_TRUST, "rollback refused: serial %d is lower than the held %d"
                       % (tl.serial, held))
    if tl.serial == held:
        return False
    if src is None:
        tmp = store.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(bundle)
        src = tmp
    os.rename(src, store.path)  # atomic on littlefs and POSIX
    digest = hashlib.sha256(bundle).digest()
    bundle = None
    store.trust = None  # the held list's tables go before the new ones are built
    store.error = "installing"
    gc.collect()
    write_cache(store, tl, pending, digest)
    return True


def rebuild(store, bundle, now):
    """Verify the stored bundle again and write its cache (missing, corrupted or stale)."""
    tl, pending = _verify(store, bundle, now)
    digest = hashlib.sha256(bundle).digest()
    bundle = None
    gc.collect()
    write_cache(store, tl, pending, digest)


def write_cache(store, tl, pending, digest):
    """Write store.cache for the verified list tl (pending: its decoded keys from trustload)
    and the bundle SHA-256 digest: temporary file, then rename."""
    tab = new_table()  # one buffer for every key's table, before the arithmetic
    tmp = store.cache + ".tmp"
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        _put(f, h, struct.pack(
            HDR, MAGIC, VERSION, store.root_pub, digest, tl.signer_pub,
            tl.area, tl.serial, tl.issued, tl.expires, tl.signer_not_before,
            tl.signer_not_after, tl.min_doses, tl.categories, tl.clock_policy, tl.max_unsynced,
            tl.reuse_window, tl.tag_key, len(pending), len(tl.revoked) >> 3))
        for half in ed25519._base_table():
            _put(f, h, half)
        while pending:
            kid, pub, pt, af, au, area = pending.pop(0)
            gc.collect()
            ed25519_make.key_table(pub, tab, pt)
            _put(f, h, struct.pack(KEY, kid, pub, af, au, area))
            _put(f, h, tab[0])
            _put(f, h, tab[1])
        _put(f, h, tl.revoked)
        f.write(h.digest())
    os.rename(tmp, store.cache)


def _put(f, h, b):
    h.update(b)
    f.write(b)
