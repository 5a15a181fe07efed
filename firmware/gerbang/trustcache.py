"""The trust cache file (docs/FIRMWARE_CORE.md "The trust cache"): this module alone knows its
layout. Every reader and writer goes through it: the boot (load, read), the install path
(write, gerbang.trustinstall), the sync boot (serial, the held list's serial for its request).

The cache is what the scan path needs from a verified bundle: the list's fields, the
revocation hashes (a list of more than _RESIDENT is left here and searched per scan:
gerbang.truststore.listed), the base point's and every issuer key's comb table. It binds itself to the
bundle (SHA-256 of the bundle file), the pinned root and the area, and ends with a SHA-256 of
everything before it: a flipped bit, a truncated file or a cache of another bundle is never
trusted (read raises _Stale), only rebuilt from the bundle with a full verification. (The hash
guards against corruption, not an attacker: one who can write the flash can replace the
pinned root in the config as well.) Load-time code: dropped after use."""

import gc
import hashlib
import os
import struct

from micropython import const

from gerbang import ed25519
from gerbang.ed25519_field import HALF_BYTES, TAB_BYTES, base_buffer, base_ready, new_table
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import Key, TrustList

# Layout (little-endian): header, the base point's table, per key a record and its table,
# the revocation hashes (8 bytes each, sorted), the other areas' kids (8 bytes each, sorted),
# SHA-256 of all of the above.
# header: magic, version, number of other areas' kids, 2 pad, root pub, bundle SHA-256, signer pub, area, serial, issued,
# expires, keycert not_before, not_after, min_doses, categories, clock_policy, max_unsynced,
# reuse_window, tag_key, number of keys, number of revocations.
# key record: kid, pub, accept_from, accept_until, area.
MAGIC = b"GBC1"
VERSION = const(2)  # 2: other areas' kids (a version-1 cache is rebuilt from its bundle)
HDR = "<4sBB2x32s32s32s11I16sHH"
KEY = "<8s32sIII"
_HDR_SIZE = const(168)
_KEY_SIZE = const(52)
_MAX_KEYS = const(16)
_MAX_REVOKED = const(8192)  # as gerbang.trustverify's
# A longer revocation list is searched in this file by each scan, not held in the heap
_RESIDENT = const(128)


class _Stale(Exception):
    """The cache cannot be used (missing, corrupted, for another bundle): rebuild it."""


def pour(f, h, n, out=None):
    """Hash the next n bytes of the open file f into h in 256-byte pieces, and write them to
    the open file out when given; OSError when f ends first. Every long read of the trust
    files goes through it: a bundle, a cache, a long revocation list (up to 72 KB) never has
    to be in the heap whole."""
    buf = bytearray(256)
    mv = memoryview(buf)
    while n:
        k = f.readinto(mv[:min(n, 256)])
        if not k:
            raise OSError("trust file short")
        h.update(mv[:k])
        if out is not None:
            out.write(mv[:k])
        n -= k


def file_digest(path):
    """SHA-256 of a file, read in small pieces (a bundle can be up to 72 KiB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        pour(f, h, os.stat(path)[6])
    return h.digest()


def serial(path, root_pub, area, digest=None):
    """Serial of the list held at path, from its cache's header (for the pinned root and
    area), without loading the list; 0 when there is none. Without digest only a hint (the
    sync request's trust serial: the server sends a bundle above it; whatever comes back is
    verified in full when it is installed). With digest (the stored bundle's SHA-256) the
    cache must also be bound to that bundle and whole, every byte hashed, nothing built: the
    install boot's rollback check (gerbang.trustinstall; the held list's tables are then never
    built only to be let go)."""
    try:
        with open(path + ".cache", "rb") as f:
            head = f.read(_HDR_SIZE)
            (magic, ver, root, bsha, _, a, s) = struct.unpack_from("<4sB3x32s32s32sII", head)
            if magic != MAGIC or ver != VERSION or root != root_pub or a != area:
                return 0
            if digest is None:
                return s
            if bsha != digest:
                return 0
            h = hashlib.sha256(head)
            pour(f, h, os.stat(path + ".cache")[6] - _HDR_SIZE - 32)
            if f.read(32) == h.digest():
                return s
    except (OSError, ValueError):
        pass
    return 0


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
    """Open the held list from the cache into store (store.source "cache") -> True; False
    when a bundle is staged or the cache cannot be used (store.trust None, store.error says
    why): then gerbang.trustinstall.load installs it or rebuilds the cache. The boot's first
    try: a boot from a good cache needs nothing else."""
    store.trust = None
    gc.collect()
    try:
        os.stat(store.pending)
        store.error = "a bundle is staged"
        return False
    except OSError:
        pass  # none: the cache
    try:
        store.trust = read(store, now)
    except Exception as e:  # noqa: BLE001 - _Stale, Reject (clock), OSError: never a crash
        store.error = "trust cache not used: %s" % (e.args[0] if e.args else repr(e))
        return False
    store.error = None
    store.source = "cache"
    return True


def read(store, now):
    """The held list from store.cache; raises _Stale (or OSError) when the cache cannot be
    used, Reject(NO_TRUST) when it is good but the key certificate is not valid at now."""
    size = os.stat(store.cache)[6]
    digest = file_digest(store.path)
    h = hashlib.sha256()
    with open(store.cache, "rb") as f:
        (magic, ver, no, root, bsha, signer, area, serial, issued, expires, nb, na, md, cats,
         cp, mu, rw, tag, nk, nr) = struct.unpack(HDR, _take(f, h, _HDR_SIZE))
        if magic != MAGIC or ver != VERSION or nk > _MAX_KEYS or nr > _MAX_REVOKED:
            raise _Stale("not a trust cache")
        if size != _HDR_SIZE + TAB_BYTES + nk * (_KEY_SIZE + TAB_BYTES) + 8 * (nr + no) + 32:
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
        _table(f, h, base_buffer(False))
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
        if nr > _RESIDENT:  # left in the file, hashed here in pieces (truststore.listed)
            tl.revoked = (store.cache, _HDR_SIZE + TAB_BYTES + nk * (_KEY_SIZE + TAB_BYTES), nr)
            pour(f, h, 8 * nr)
        else:
            tl.revoked = _take(f, h, 8 * nr)
        tl.others = _take(f, h, 8 * no)
        if f.read(32) != h.digest():
            raise _Stale("cache checksum")
    base_buffer(True)
    if now is not None and not nb <= now < na:
        raise Reject(NO_TRUST, "key certificate is outside its validity")
    return tl


def write(store, trust, digest, pending, fill):
    """Write store.cache (temporary file, then rename) for the verified list trust, the
    bundle's SHA-256 digest and the base point's table (built: gerbang.ed25519_field).
    pending: the list's keys, (kid, pub, point, accept_from, accept_until, area) each,
    consumed from the front; fill(pub, tab, pt) builds a key's table into tab. One table
    buffer serves every key, so however many keys a list has, one table is in RAM while the
    cache is written."""
    tab = new_table()  # one buffer for every key's table, before the arithmetic
    tmp = store.cache + ".tmp"
    h = hashlib.sha256()
    t = trust
    rv = t.revoked
    with open(tmp, "wb") as f:
        head = struct.pack(
            HDR, MAGIC, VERSION, len(t.others) >> 3, store.root_pub, digest, t.signer_pub, t.area, t.serial,
            t.issued, t.expires, t.signer_not_before, t.signer_not_after, t.min_doses,
            t.categories, t.clock_policy, t.max_unsynced, t.reuse_window, t.tag_key,
            len(pending), rv[2] if type(rv) is tuple else len(rv) >> 3)
        for b in (head,) + tuple(base_ready()):
            h.update(b)
            f.write(b)
        while pending:
            kid, pub, pt, af, au, area = pending.pop(0)
            gc.collect()
            fill(pub, tab, pt)
            for b in (struct.pack(KEY, kid, pub, af, au, area), tab[0], tab[1]):
                h.update(b)
                f.write(b)
        if type(rv) is tuple:  # (path, offset, count) in the bundle file: copied in pieces
            with open(rv[0], "rb") as g:
                g.seek(rv[1])
                pour(g, h, 8 * rv[2], f)
            rv = b""
        for b in (rv, t.others):
            h.update(b)
            f.write(b)
        f.write(h.digest())
    os.rename(tmp, store.cache)
