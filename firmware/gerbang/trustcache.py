"""Opening the door's trust list at boot from its cache (docs/FIRMWARE_CORE.md "The trust
cache"), installing a staged bundle first. Imported by TrustStore.load() and dropped after it.

The cache is what the scan path needs from a verified bundle, derived once by
gerbang.trustinst: the list's fields, the revocation hashes, the base point's and every issuer
key's comb table. It binds itself to the bundle (SHA-256 of the bundle file), the pinned root
and the area, and ends with a SHA-256 of everything before it: a flipped bit, a truncated
file or a cache of another bundle is never trusted, only rebuilt from the bundle with a full
verification. (The hash guards against corruption, not an attacker: one who can write the
flash can replace the pinned root in the config as well.)"""

import gc
import hashlib
import os
import struct

from micropython import const

from gerbang import ed25519
from gerbang.ed25519_field import HALF_BYTES, TAB_BYTES, new_table
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import Key, TrustList, drop

# Layout (little-endian): header, the base point's table, per key a record and its table,
# the revocation hashes (8 bytes each, sorted), SHA-256 of all of the above.
# header: magic, version, 3 pad, root pub, bundle SHA-256, signer pub, area, serial, issued,
# expires, keycert not_before, not_after, min_doses, categories, clock_policy, max_unsynced,
# reuse_window, tag_key, number of keys, number of revocations.
# key record: kid, pub, accept_from, accept_until, area.
MAGIC = b"GBC1"
VERSION = const(1)
HDR = "<4sB3x32s32s32s11I16sHH"
KEY = "<8s32sIII"
_HDR_SIZE = const(168)
_KEY_SIZE = const(52)
_MAX_KEYS = const(16)
_MAX_REVOKED = const(4096)


def _installer():
    from gerbang import trustinst

    return trustinst


def _drop_installer():
    drop(("trustinst", "trustload", "ed25519_one", "ed25519_make"))


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def file_digest(path):
    """SHA-256 of a file, read in small pieces (a bundle can be up to 40 KB)."""
    h = hashlib.sha256()
    buf = bytearray(256)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
    return h.digest()


class _Stale(Exception):
    """The cache cannot be used (missing, corrupted, for another bundle): rebuild it."""


def _take(f, h, n):
    b = f.read(n)
    if len(b) != n:
        raise _Stale("cache truncated")
    h.update(b)
    return b


def _table(f, h, tab):
    for half in tab:
        if f.readinto(half) != HALF_BYTES:
            raise _Stale("cache truncated")
        h.update(half)


def load(store, now):
    """TrustStore.load(): the staged bundle first (verified, installed, or refused with
    store.pending_error), then the list from the cache. Never raises."""
    store.trust = None
    store.pending_error = None
    if _exists(store.pending):
        _load(store, now)
        held = store.serial
        store.trust = None  # its tables go before the new list is verified
        gc.collect()
        data = None
        try:
            with open(store.pending, "rb") as f:
                data = f.read()
            _installer().install(store, data, now, held, store.pending)
        except Exception as e:  # noqa: BLE001 - a refused staged list: keep the held one
            store.pending_error = e.args[0] if e.args else repr(e)
        finally:
            data = None
            _remove(store.pending)
            _drop_installer()
    return _load(store, now)


def _load(store, now):
    store.trust = None
    gc.collect()
    try:
        store.trust = read(store, now)
        store.error = None
        store.source = "cache"
        return True
    except Reject as e:  # the cache is good but the list is refused (clock): no trust
        store.error = "stored trust list refused: %s" % e.args[0]
        return False
    except Exception:  # noqa: BLE001 - missing, corrupted or stale cache: rebuild it
        store.trust = None
        ed25519.base_buffer(False)
    gc.collect()
    if not _exists(store.path):
        store.error = "no trust list stored"
        return False
    data = None
    try:
        with open(store.path, "rb") as f:
            data = f.read()
        _installer().rebuild(store, data, now)
    except Exception as e:  # noqa: BLE001 - a broken file means no trust, never a crash
        store.error = "stored trust list refused: %s" % (e.args[0] if e.args else e)
        return False
    finally:
        data = None
        _drop_installer()
    try:
        store.trust = read(store, now)
    except Exception as e:  # noqa: BLE001 - e.g. out of memory: no trust, say why
        store.error = "trust cache unreadable after rebuild: %r" % (e,)
        return False
    store.error = None
    store.source = "bundle"
    return True


def read(store, now):
    """The held list from store.cache; raises _Stale (or OSError) when the cache cannot be
    used, Reject(NO_TRUST) when it is good but the key certificate is not valid at now."""
    size = os.stat(store.cache)[6]
    digest = file_digest(store.path)
    h = hashlib.sha256()
    with open(store.cache, "rb") as f:
        (magic, ver, root, bsha, signer, area, serial, issued, expires, nb, na, md, cats,
         cp, mu, rw, tag, nk, nr) = struct.unpack(HDR, _take(f, h, _HDR_SIZE))
        if magic != MAGIC or ver != VERSION or nk > _MAX_KEYS or nr > _MAX_REVOKED:
            raise _Stale("not a trust cache")
        if size != _HDR_SIZE + TAB_BYTES + nk * (_KEY_SIZE + TAB_BYTES) + 8 * nr + 32:
            raise _Stale("cache size")  # before allocating anything it claims
        if root != store.root_pub or bsha != digest or area != store.area:
            raise _Stale("cache of another bundle, root or area")
        gc.collect()
        tabs = [new_table() for _ in range(nk)]  # first, together: fewer holes between them
        tl = TrustList()
        tl.signer_pub = signer
        tl.signer_not_before = nb
        tl.signer_not_after = na
        tl.area = area
        tl.serial = serial
        tl.issued = issued
        tl.expires = expires
        tl.min_doses = md
        tl.categories = cats
        tl.clock_policy = cp
        tl.max_unsynced = mu
        tl.reuse_window = rw
        tl.tag_key = tag
        _table(f, h, ed25519.base_buffer(False))
        keys = tl.keys
        for i in range(nk):
            kid, pub, af, au, ka = struct.unpack(KEY, _take(f, h, _KEY_SIZE))
            tab = tabs[i]
            _table(f, h, tab)
            k = Key(kid, ed25519.PublicKey(pub, None, tab), af, au, ka)
            if kid in keys:
                keys[kid].append(k)
            else:
                keys[kid] = [k]
        tl.revoked = _take(f, h, 8 * nr)
        if f.read(32) != h.digest():
            raise _Stale("cache checksum")
    ed25519.base_buffer(True)
    if now is not None and not nb <= now < na:
        raise Reject(NO_TRUST, "key certificate is outside its validity")
    return tl
