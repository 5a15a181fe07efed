"""A trust bundle verified from its file, never held whole (docs/FIRMWARE_CORE.md "Install,
boot and the trust cache"): a list of 8,192 revoked ids is a 66 KB bundle, more than the
door's heap has in one piece at boot.

The heads and the small fields are read (the bundle's first _HEAD bytes, and what follows
the revocations: the tag key, other areas' kids, the signature); a copy of the bundle with an
empty revocation list in their place is verified by gerbang.trustverify as any bundle, except
that the trust list's signature is checked over the file's own payload bytes, hashed from the
file in pieces; then the ids are checked in the file (whole, sorted, distinct). Load-time
code: gerbang.trustinstall imports it for an install or a cache rebuild and drops it after."""

import os

from micropython import const

from gerbang import cbor, cose, trustcache, trustverify
from gerbang.reasons import NO_TRUST, Reject

_HEAD = const(4096)  # the bundle's first bytes: up to the revocations' bytes


def _fail(msg):
    raise Reject(NO_TRUST, msg)


def _feeder(path, off, n):
    # hashes n bytes of the file from off into h (ed25519_oneoff.verify calls it with h)
    def feed(h):
        with open(path, "rb") as f:
            f.seek(off)
            trustcache.pour(f, h, n)

    return feed


def _file_ids(path, off, n, most):
    # _ids for the revocations left in the bundle file: whole, sorted and distinct ids
    if n & 7 or n > 8 * most:
        _fail("revoked must be whole 8-byte ids, at most %d" % most)
    prev = None
    with open(path, "rb") as f:
        f.seek(off)
        for _ in range(n >> 3):
            b = f.read(8)
            if len(b) != 8:
                _fail("bundle file short")
            if prev is not None and not prev < b:
                _fail("revoked must be sorted and distinct")
            prev = b
    return (path, off, n >> 3)


def _head(d, major):
    # the argument of the next CBOR head, which must be of this major type
    m, ai = d._head()
    if ai > 27:  # reserved, a break or an indefinite length: the decoder's own Reject
        d.p -= 1
        d.item(1)
    if m != major:
        _fail("trust bundle layout")
    return d._arg(ai)


def open_file(path, root_pub, now=None):
    """trustverify.open_bundle(bundle, root_pub, now, False) for a bundle file, never held
    whole -> (TrustList, pending). Raises Reject(NO_TRUST). tl.revoked is (path, offset,
    count) of the ids in the file (gerbang.trustcache copies them into the cache)."""
    size = os.stat(path)[6]
    if size > trustverify.MAX_BUNDLE:
        _fail("bundle over %d bytes" % trustverify.MAX_BUNDLE)
    with open(path, "rb") as f:
        head = memoryview(f.read(_HEAD))
        d = cbor._Decoder(head, True)
        try:
            if _head(d, 4) != 2:
                _fail("a trust bundle is [keycert, trustlist]")
            d.item(1)
            kc_end = d.p
            n = _head(d, 2)
            if d.p + n != size:
                _fail("bundle: truncated or trailing bytes")
            tl0 = d.p
            if d.p < len(head) and head[d.p] >> 5 == 6:
                _head(d, 6)  # the COSE tag: cose.decode checks it on the copy
            if _head(d, 4) != 4:
                _fail("trust list: not a COSE_Sign1")
            d.item(1)
            d.item(1)
            ph = d.p
            lp = _head(d, 2)
            ps = d.p
            rs = None
            for _ in range(_head(d, 5)):
                if d.item(1) == 7:
                    v7 = d.p
                    rl = _head(d, 2)
                    rs = d.p
                    break
                d.item(1)
        except Reject as e:
            _fail("bundle: " + e.args[0])
        except (TypeError, IndexError, KeyError):  # as cbor.loads: one error type for callers
            _fail("bundle: malformed")
        if rs is None:
            _fail("revoked is missing")
        if rs + rl > ps + lp or size - (rs + rl) > 2048:
            _fail("trust bundle layout")
        f.seek(rs + rl)
        tail = f.read(size - rs - rl)  # labels after the revocations, then the signature
    cut = ps + lp - rs - rl
    pl = bytearray(head[ps:v7])
    pl.append(0x40)  # the revocations: an empty bstr in the copy
    pl += tail[:cut]
    tl = bytearray(head[tl0:ph])
    cose._bstr_into(tl, pl)
    tl += tail[cut:]
    out = bytearray(head[:kc_end])
    cose._bstr_into(out, tl)
    head = d = tail = pl = tl = None
    tl, pending = trustverify.open_bundle(out, root_pub, now, False, (_feeder(path, ps, lp), lp))
    tl.revoked = _file_ids(path, rs, rl, trustverify.MAX_REVOKED)
    return tl, pending
