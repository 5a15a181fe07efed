"""The host reference of the door's decision (docs/PROTOCOL.md §2, §4, §7), check by check in
the order the door applies them. The firmware must give the same verdict for any input."""

from dataclasses import dataclass

from .cert import decode_claims
from .cose import decode_sign1
from .errors import ProtocolError, Reason
from .keys import verify_ed25519
from .qr import MAX_INFLATED, decode_qr
from .record import CLOCK_SYNCED, FLAG_CLOCK_ALLOWED
from .trustlist import TrustList, open_bundle, revocation_hash, subject_tag


@dataclass(frozen=True)
class Decision:
    allow: bool
    reason: Reason
    kid: bytes | None = None
    subject_tag: bytes | None = None
    flags: int = 0


class Checker:
    """Holds one area's opened trust list (or none) and the reuse memory of one door."""

    def __init__(self, trustlist: TrustList | None, area: int) -> None:
        self.trustlist = trustlist
        self.area = area
        self.revoked = set(trustlist.revoked) if trustlist else set()
        self.other_kids = set(trustlist.other_kids) if trustlist else set()
        self.last_seen: dict[bytes, int] = {}

    def check(self, text: str, now: int, clock_quality: int = CLOCK_SYNCED) -> Decision:
        try:
            return self._check(text, now, clock_quality)
        except ProtocolError as e:
            return Decision(False, e.reason, getattr(e, "kid", None))

    def _check(self, text: str, now: int, clock_quality: int) -> Decision:
        msg = decode_sign1(decode_qr(text), max_size=MAX_INFLATED)
        tl = self.trustlist
        if tl is None or not tl.issued <= now < tl.expires:
            raise ProtocolError(Reason.NO_TRUST, "no valid trust list held")
        keys = [k for k in tl.keys if k.kid == msg.kid]
        if not keys:
            if msg.kid in self.other_kids:  # another area's issuer: nothing verified, a deny
                raise _with_kid(ProtocolError(Reason.WRONG_AREA, "kid of another area"), msg.kid)
            raise ProtocolError(Reason.UNKNOWN_KID, f"kid {msg.kid.hex()} is not trusted")
        keys = [k for k in keys if k.accept_from <= now < k.accept_until]
        if not keys:
            raise _with_kid(ProtocolError(Reason.KEY_WINDOW, "key outside its window"), msg.kid)
        tbs = msg.to_be_signed()
        key = next((k for k in keys if verify_ed25519(k.pub, tbs, msg.signature)), None)
        if key is None:
            raise _with_kid(ProtocolError(Reason.SIGNATURE, "bad signature"), msg.kid)
        # Only from here on is anything in the payload trusted.
        try:
            cert = decode_claims(msg.payload)
        except ProtocolError as e:
            raise _with_kid(e, msg.kid) from None
        tag = subject_tag(tl.tag_key, cert.cti)

        def deny(reason: Reason) -> Decision:
            return Decision(False, reason, msg.kid, tag)

        if not key.accept_from <= cert.iat < key.accept_until:
            return deny(Reason.KEY_WINDOW)
        if now < cert.nbf:
            return deny(Reason.NOT_YET_VALID)
        if now >= cert.exp:
            return deny(Reason.EXPIRED)
        if cert.status.areas is not None and self.area not in cert.status.areas:
            return deny(Reason.WRONG_AREA)
        if revocation_hash(cert.cti) in self.revoked:
            return deny(Reason.REVOKED)
        if not tl.policy.categories >> cert.status.category & 1:
            return deny(Reason.CATEGORY)
        if cert.status.category == 1 and cert.status.doses < tl.policy.min_doses:
            return deny(Reason.DOSES)
        flags = 0
        if clock_quality != CLOCK_SYNCED:
            if tl.policy.clock_policy == 0:
                return deny(Reason.CLOCK)
            flags = FLAG_CLOCK_ALLOWED
        window = tl.policy.reuse_window
        if window:
            seen = self.last_seen.get(tag)
            self.last_seen[tag] = now
            if seen is not None and 0 <= now - seen < window:
                return deny(Reason.REUSE)
        return Decision(True, Reason.OK, msg.kid, tag, flags)


def _with_kid(e: ProtocolError, kid: bytes) -> ProtocolError:
    e.kid = kid  # type: ignore[attr-defined]
    return e


def check_qr(text: str, bundle: bytes | None, root_pub: bytes, area: int, now: int,
             clock_quality: int = CLOCK_SYNCED) -> Decision:
    """One-shot check: open the bundle (chain to the pinned root), then decide."""
    trustlist = None
    if bundle is not None:
        try:
            trustlist = open_bundle(bundle, root_pub, now)[1]
        except ProtocolError:
            trustlist = None
    if trustlist is not None and trustlist.area != area:
        trustlist = None
    return Checker(trustlist, area).check(text, now, clock_quality)
