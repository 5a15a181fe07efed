"""The door's decision on one scanned certificate QR (docs/PROTOCOL.md §2, §4, §7).

Order (cheapest and least trusting first; the signature before any claim is believed):
TOO_LONG -> PREFIX -> BASE45 -> INFLATE -> CBOR -> COSE -> NO_TRUST -> UNKNOWN_KID ->
KEY_WINDOW (now) -> SIGNATURE -> CLAIMS -> KEY_WINDOW (iat) -> NOT_YET_VALID -> EXPIRED ->
WRONG_AREA -> REVOKED -> CATEGORY -> DOSES -> CLOCK -> REUSE -> OK.
check() never raises: anything unexpected is a deny with INTERNAL."""

import gc
import hashlib

from micropython import const

from gerbang import base45, cbor, cose, inflate
from gerbang import reasons as R
from gerbang.reasons import Reject
from gerbang.truststore import listed

MAX_TEXT = const(600)
FLAG_CLOCK_ALLOWED = const(1)
CLOCK_SYNCED = const(0)
_U32 = const(0xFFFFFFFF)
_REUSE_SLOTS = const(32)  # distinct certificates remembered for the reuse window
# Room held for a check between checks (see Checker.check); covers DeflateIO's two blocks
# (~1.3 KB state, 1 KiB window) and the verify's live big ints.
_RESERVE = const(3072)
_PREFIX = "GB1:"
_BPREFIX = b"GB1:"


class Decision:
    __slots__ = ("allow", "reason", "kid", "subject_tag", "flags")

    def __init__(self, allow, reason, kid=None, subject_tag=None, flags=0):
        self.allow = allow
        self.reason = reason
        self.kid = kid
        self.subject_tag = subject_tag
        self.flags = flags

    def __repr__(self):
        return "Decision(%s, %d)" % ("allow" if self.allow else "deny", self.reason)


def _uint(v):
    if type(v) is not int or v < 0 or v > _U32:
        raise Reject(R.CLAIMS, "claim must be an unsigned integer <= 2**32-1")
    return v


def _claim(m, label):
    if label not in m:
        raise Reject(R.CLAIMS, "required claim missing")
    return m[label]


def _claims(payload):
    """CWT claims (§2) of a payload whose signature verified -> (iat, nbf, exp, cti, cat,
    doses, areas or None); anything malformed raises Reject(CLAIMS)."""
    m = cbor.loads(payload, R.CLAIMS)
    if type(m) is not dict:
        raise Reject(R.CLAIMS, "claims must be a map")
    for k in m:
        t = type(k)
        if t is not int and t is not str:
            raise Reject(R.CLAIMS, "claim labels must be integers or text")
    iss = m.get(1, "")
    if type(iss) is not str or len(iss) > 64:
        raise Reject(R.CLAIMS, "iss must be text of at most 64 characters")
    iat = _uint(_claim(m, 6))
    nbf = _uint(_claim(m, 5))
    exp = _uint(_claim(m, 4))
    cti = _claim(m, 7)
    if type(cti) is not bytes or len(cti) != 16:
        raise Reject(R.CLAIMS, "cti must be 16 bytes")
    st = _claim(m, -65537)
    if type(st) is not list or not 2 <= len(st) <= 3:
        raise Reject(R.CLAIMS, "status must be [category, doses] or [category, doses, areas]")
    cat = _uint(st[0])
    if not 1 <= cat <= 5:
        raise Reject(R.CLAIMS, "unknown category")
    doses = _uint(st[1])
    if doses > 15:
        raise Reject(R.CLAIMS, "doses must be 0..15")
    areas = None
    if len(st) == 3:
        areas = st[2]
        if type(areas) is not list or not 1 <= len(areas) <= 18:
            raise Reject(R.CLAIMS, "areas must be a list of 1 to 18 area ids")
        for a in areas:
            if not 1 <= _uint(a) <= 18:
                raise Reject(R.CLAIMS, "area ids are 1 to 18")
    return iat, nbf, exp, cti, cat, doses, areas


def _sha8(a, b=None):
    h = hashlib.sha256(a)
    if b is not None:
        h.update(b)
    return h.digest()[:8]


class Checker:
    """Decides scans for one door: `store` is a TrustStore (its current list is read on every
    scan, so an install takes effect at once), `area` the door's area (1..18)."""

    def __init__(self, store, area):
        self.store = store
        self.area = area
        # reuse memory: a ring of (subject tag, last scan time); the oldest entry is replaced
        self._tags = [None] * _REUSE_SLOTS
        self._times = [0] * _REUSE_SLOTS
        self._next = 0
        self._kid = None
        self._res = None
        self.rest()

    def rest(self):
        """Between people (the app loop, after the relay and the log): one collection, then
        take the check's reserve back. Not inside check(), so the relay waits for no GC."""
        gc.collect()
        res = []
        try:
            for _ in range(_RESERVE // 1536):
                res.append(bytearray(1536))
        except MemoryError:  # not now (the app holds more); the next check tries again
            pass
        self._res = res

    def check(self, text, now, clock_quality=CLOCK_SYNCED):
        # A check needs a few KB in pieces of up to 1.3 KB (DeflateIO's state and window, the
        # big ints of the verify). A full heap can have that much free only in small holes
        # between resident objects, so a block is held for it from boot: let go here, its
        # room is taken by the first collection the allocator runs when nothing else fits;
        # rest() takes it back after a collection, at the same place (the lowest hole big
        # enough), so every check starts from the same heap.
        self._kid = None
        self._res = None
        try:
            return self._check(text, now, clock_quality)
        except Reject as e:
            return Decision(False, e.reason, self._kid)
        except Exception:  # noqa: BLE001 - a bug or MemoryError must deny, never crash the door
            return Decision(False, R.INTERNAL)

    def _check(self, text, now, clock_quality):
        if isinstance(text, str):
            if not text:
                raise Reject(R.PREFIX)
            if len(text) > MAX_TEXT:
                raise Reject(R.TOO_LONG)
            if not text.startswith(_PREFIX):
                raise Reject(R.PREFIX)
        elif isinstance(text, (bytes, bytearray, memoryview)):
            if not len(text):
                raise Reject(R.PREFIX)
            if len(text) > MAX_TEXT:
                raise Reject(R.TOO_LONG)
            if bytes(text[:4]) != _BPREFIX:
                raise Reject(R.PREFIX)
        else:
            raise Reject(R.PREFIX, "not text")
        raw = inflate.inflate(base45.decode(text, 4))
        msg = cose.decode(raw, True)  # views into the inflate buffer: no copies
        tl = self.store.trust
        if tl is None or tl.area != self.area or not tl.valid_at(now):
            raise Reject(R.NO_TRUST)
        keys = tl.keys_for(msg.kid)
        if not keys:  # another area's issuer (nothing verified: a deny either way) or unknown
            if listed(tl.others, msg.kid):
                self._kid = msg.kid
                raise Reject(R.WRONG_AREA)
            raise Reject(R.UNKNOWN_KID)
        self._kid = msg.kid
        usable = [k for k in keys if k.accept_from <= now < k.accept_until]
        if not usable:
            raise Reject(R.KEY_WINDOW)
        key = cose.verify(msg, usable)
        if key is None:
            raise Reject(R.SIGNATURE)
        # Only from here on is anything in the payload trusted.
        iat, nbf, exp, cti, cat, doses, areas = _claims(msg.payload)
        tag = _sha8(tl.tag_key, cti)
        reason = R.OK
        if not key.accept_from <= iat < key.accept_until:
            reason = R.KEY_WINDOW
        elif now < nbf:
            reason = R.NOT_YET_VALID
        elif now >= exp:
            reason = R.EXPIRED
        elif areas is not None and self.area not in areas:
            reason = R.WRONG_AREA
        elif listed(tl.revoked, _sha8(cti)):
            reason = R.REVOKED
        elif not (tl.categories >> cat) & 1:
            reason = R.CATEGORY
        elif cat == 1 and doses < tl.min_doses:
            reason = R.DOSES
        if reason:
            return Decision(False, reason, msg.kid, tag)
        flags = 0
        if clock_quality != CLOCK_SYNCED:
            if tl.clock_policy == 0:
                return Decision(False, R.CLOCK, msg.kid, tag)
            flags = FLAG_CLOCK_ALLOWED
        if tl.reuse_window and self._seen_recently(tag, now, tl.reuse_window):
            return Decision(False, R.REUSE, msg.kid, tag)
        return Decision(True, R.OK, msg.kid, tag, flags)

    def _seen_recently(self, tag, now, window):
        """Remember this scan; True when the same tag was scanned within `window` s before."""
        tags = self._tags
        for i in range(_REUSE_SLOTS):
            if tags[i] == tag:
                seen = self._times[i]
                self._times[i] = now
                return 0 <= now - seen < window
        i = self._next
        tags[i] = tag
        self._times[i] = now
        self._next = (i + 1) % _REUSE_SLOTS
        return False

    def forget(self):
        """Clear the reuse memory (new trust list with another tag key, or tests)."""
        for i in range(_REUSE_SLOTS):
            self._tags[i] = None
        self._next = 0
