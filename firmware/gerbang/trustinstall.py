"""The install/verify path of the door's trust list (docs/FIRMWARE_CORE.md "Install, boot and
the trust cache"): load-time code only, over the resident gerbang.truststore.TrustStore.

- load(store, now): the boot. A staged bundle first (verified, installed, or refused with
  store.pending_error), then the list from its cache (gerbang.trustcache), rebuilt from the
  bundle with a full verification when the cache is missing, corrupted, stale or foreign.
- install(store, bundle, now): online install (a bundle verified in full, stored, used).
- opened(store, bundle, now): a bundle verified in RAM with its tables, nothing stored.

The bundle is verified in full (gerbang.trustverify) before anything is written; then the
bundle and the cache are each written to a temporary file and renamed over the old one (bundle
first, cache second: a power cut in between leaves a cache that does not match the bundle's
SHA-256, which the next load rebuilds). Each entry point drops the load-time modules,
this one included, before it returns (when deployed as .mpy): the caller lets go of its
reference and the next collection frees them. A boot from a good cache never imports the
verification code."""

import gc
import os

from gerbang import trustcache
from gerbang.ed25519_field import base_buffer
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import drop


class Rollback(Reject):
    """A bundle with a lower serial than the one held (a replayed old list): raised by
    install(). Here, not in the resident truststore: only the install path raises it."""


_VERIFY = ("trustfile", "trustverify", "ed25519_oneoff", "ed25519_tables")  # verify, tables
_LOADTIME = ("trustinstall", "trustcache") + _VERIFY  # all of it, dropped on the way out


def _verifier():
    from gerbang import trustverify

    return trustverify


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


def load(store, now):
    """Boot: install the staged bundle if there is one, then open the list from its cache.
    Never raises: returns True when a list is held. now=None: clock unknown (the key
    certificate's validity is not checked)."""
    try:
        store.trust = None
        store.pending_error = None
        if _exists(store.pending):
            # a whole cache says which list is held; else the list is opened (its cache
            # rebuilt) to know
            held = _exists(store.path) and trustcache.serial(
                store.path, store.root_pub, store.area, trustcache.file_digest(store.path))
            if not held:
                _load(store, now)
                held = store.serial
                store.trust = None  # its tables go before the new list is verified
            gc.collect()
            try:
                _install(store, store.pending, now, held)
            except Exception as e:  # noqa: BLE001 - a refused staged list: keep the held one
                store.pending_error = e.args[0] if e.args else repr(e)
            finally:
                _remove(store.pending)
                drop(_VERIFY)
        return _load(store, now)
    finally:
        drop(_LOADTIME)


def _load(store, now):
    store.trust = None
    gc.collect()
    try:
        store.trust = trustcache.read(store, now)
        store.error = None
        store.source = "cache"
        return True
    except Reject as e:  # the cache is good but the list is refused (clock): no trust
        store.error = "stored trust list refused: %s" % e.args[0]
        return False
    except Exception:  # noqa: BLE001 - missing, corrupted or stale cache: rebuild it
        store.trust = None
        base_buffer(False)
    gc.collect()
    if not _exists(store.path):
        store.error = "no trust list stored"
        return False
    try:
        _rebuild(store, now)
    except Exception as e:  # noqa: BLE001 - a broken file means no trust, never a crash
        store.error = "stored trust list refused: %s" % (e.args[0] if e.args else e)
        return False
    finally:
        drop(_VERIFY)
    try:
        store.trust = trustcache.read(store, now)
    except Exception as e:  # noqa: BLE001 - e.g. out of memory: no trust, say why
        store.error = "trust cache unreadable after rebuild: %r" % (e,)
        return False
    store.error = None
    store.source = "bundle"
    return True


def _verify(store, bundle, now):
    # bundle: bytes in RAM, or a file's path (str: read in pieces, trustfile.open_file)
    if type(bundle) is str:
        from gerbang import trustfile

        tl, pending = trustfile.open_file(bundle, store.root_pub, now)
    else:
        tl, pending = _verifier().open_bundle(bundle, store.root_pub, now, False)
    if tl.area != store.area:
        raise Reject(NO_TRUST, "trust list is for area %d, this door is area %d"
                     % (tl.area, store.area))
    return tl, pending


def opened(store, bundle, now):
    """A bundle verified in RAM with its tables, nothing stored (tests and tools)."""
    try:
        tl, pending = _verify(store, bundle, now)
        _verifier().build_keys(tl, pending)
        tl.revoked = bytes(tl.revoked)  # held: a copy, not a view into the bundle
        return tl
    finally:
        drop(_LOADTIME)


def install(store, bundle, now):
    """Validate a new bundle fully, then store it and its cache atomically and use it.
    Returns True when installed, False when it is the list already held (same serial).
    Raises Reject(NO_TRUST) for a bad bundle and Rollback for a lower serial. The held list
    is let go once the new one is checked and stored (two lists' tables at once would not fit
    the door's heap); if the cache cannot be read back, no list is held until load(). See
    docs/FIRMWARE_CORE.md for its heap."""
    tmp = store.path + ".tmp"
    try:
        with open(tmp, "wb") as f:  # installed from the file, as at boot
            f.write(bundle)
        bundle = None
        done = _install(store, tmp, now, store.serial)
        if done:
            store.trust = None
            drop(_VERIFY)  # room for the tables read back
            store.trust = trustcache.read(store, now)
            store.error = None
            store.source = "bundle"
        return done
    finally:
        _remove(tmp)
        drop(_LOADTIME)


def stage(store, bundle):
    """Store a bundle to be installed by the next load(), at boot, before the scan path is
    imported (tests and tools; the sync boot streams its download to the same file).
    Nothing is verified here."""
    try:
        tmp = store.pending + ".tmp"
        with open(tmp, "wb") as f:
            f.write(bundle)
        os.rename(tmp, store.pending)
    finally:
        drop(_LOADTIME)


def _install(store, src, now, held):
    """Verify the bundle file src (staged, or the online install's temporary file), refuse it
    if expired at now (None: unknown) or older than the held serial, keep it if equal
    (returns False); else rename it to the store's bundle, let the held list go and write the
    cache. Returns True; the caller reads the cache."""
    tl, pending = _verify(store, src, now)
    if now is not None and not now < tl.expires:
        raise Reject(NO_TRUST, "trust list expired")
    if tl.serial < held:
        raise Rollback(NO_TRUST, "rollback refused: serial %d is lower than the held %d"
                       % (tl.serial, held))
    if tl.serial == held:
        return False
    os.rename(src, store.path)  # atomic on littlefs and POSIX
    store.trust = None  # the held list's tables go before the new ones are built
    store.error = "installing"
    gc.collect()
    _write(store, tl, pending)
    return True


def _rebuild(store, now):
    """Verify the stored bundle again and write its cache (missing, corrupted or stale)."""
    tl, pending = _verify(store, store.path, now)
    gc.collect()
    _write(store, tl, pending)


def _write(store, tl, pending):
    from gerbang import ed25519_tables

    rv = tl.revoked
    if type(rv) is tuple:  # the revocations in the bundle file, which is store.path now
        tl.revoked = (store.path, rv[1], rv[2])
    ed25519_tables.base_table()  # built, for the cache
    trustcache.write(store, tl, trustcache.file_digest(store.path), pending,
                     ed25519_tables.key_table)
