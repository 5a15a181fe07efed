"""Root-signed key certificates, per-area trust lists and trust bundles (docs/PROTOCOL.md §3-4)."""

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import cbor
from .cert import AREA_IDS
from .cose import decode_sign1, sign1, verify_sign1
from .errors import ProtocolError, Reason
from .fields import bstr, cbor_map, require, uint

ROLE_TRUSTLIST_SIGNER = 1
MAX_KEYS = 16
MAX_REVOKED = 8192
MAX_OTHER_KIDS = 64  # other areas' issuer kids a list names (docs/PROTOCOL.md §4, label 9)
MAX_BUNDLE = 72 * 1024
R = Reason.NO_TRUST  # a bad trust list means: no trust


def revocation_hash(cti: bytes) -> bytes:
    return hashlib.sha256(cti).digest()[:8]


def subject_tag(tag_key: bytes, cti: bytes) -> bytes:
    """Pseudonymous tag logged for a scan: links scans of one certificate, names no one."""
    return hashlib.sha256(tag_key + cti).digest()[:8]


@dataclass(frozen=True)
class KeyCertificate:
    role: int
    pub: bytes
    not_before: int
    not_after: int

    def to_cbor(self) -> dict:
        return {1: self.role, 2: self.pub, 3: self.not_before, 4: self.not_after}


def make_keycert(root: Ed25519PrivateKey, kc: KeyCertificate) -> bytes:
    return sign1(root, cbor.dumps(kc.to_cbor()))


def open_keycert(data: bytes, root_pub: bytes, now: int | None) -> KeyCertificate:
    msg, _ = verify_sign1(data, lambda kid: [root_pub], max_size=1024)
    m = cbor_map(cbor.loads(msg.payload, reason=R), "key certificate", R)
    kc = KeyCertificate(
        uint(require(m, 1, "role", R), "role", R),
        bstr(require(m, 2, "pub", R), "pub", R, size=32),
        uint(require(m, 3, "not_before", R), "not_before", R),
        uint(require(m, 4, "not_after", R), "not_after", R),
    )
    if kc.role != ROLE_TRUSTLIST_SIGNER:
        raise ProtocolError(R, f"key certificate role {kc.role} is not trust-list signer")
    if now is not None and not kc.not_before <= now < kc.not_after:
        raise ProtocolError(R, "key certificate is outside its validity")
    return kc


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    pub: bytes
    accept_from: int
    accept_until: int
    area: int

    def to_cbor(self) -> list:
        return [self.kid, self.pub, self.accept_from, self.accept_until, self.area]


@dataclass(frozen=True)
class Policy:
    min_doses: int = 0
    categories: int = 0b111110  # categories 1-5 accepted
    clock_policy: int = 1       # 0 deny when the clock is stale, 1 allow and flag
    max_unsynced: int = 7 * 86400
    reuse_window: int = 0

    def to_cbor(self) -> dict:
        return {1: self.min_doses, 2: self.categories, 3: self.clock_policy,
                4: self.max_unsynced, 5: self.reuse_window}


@dataclass(frozen=True)
class TrustList:
    area: int
    serial: int
    issued: int
    expires: int
    keys: list[TrustedKey]
    policy: Policy = field(default_factory=Policy)
    revoked: list[bytes] = field(default_factory=list)
    tag_key: bytes = bytes(16)
    # kids of the keys other areas trust: a door tells "valid, but for another area"
    # (WRONG_AREA) from an unknown signer without verifying anything (label 9, optional)
    other_kids: list[bytes] = field(default_factory=list)

    def to_cbor(self) -> dict:
        m = {1: self.area, 2: self.serial, 3: self.issued, 4: self.expires,
             5: [k.to_cbor() for k in self.keys], 6: self.policy.to_cbor(),
             7: b"".join(sorted(set(self.revoked))), 8: self.tag_key}
        if self.other_kids:
            m[9] = b"".join(sorted(set(self.other_kids)))
        return m

    def is_revoked(self, cti: bytes) -> bool:
        return revocation_hash(cti) in set(self.revoked)


def sign_trustlist(signer: Ed25519PrivateKey, tl: TrustList) -> bytes:
    if (len(tl.keys) > MAX_KEYS or len(set(tl.revoked)) > MAX_REVOKED
            or len(set(tl.other_kids)) > MAX_OTHER_KIDS):
        raise ValueError("trust list over its key, revocation or other-area kid cap")
    return sign1(signer, cbor.dumps(tl.to_cbor()))


def make_bundle(keycert: bytes, trustlist: bytes) -> bytes:
    return cbor.dumps([keycert, trustlist])


def decode_trustlist(payload: bytes) -> TrustList:
    m = cbor_map(cbor.loads(payload, reason=R), "trust list", R)
    area = uint(require(m, 1, "area", R), "area", R)
    if area not in AREA_IDS:
        raise ProtocolError(R, f"area {area} is not 1-18")
    raw_keys = require(m, 5, "keys", R)
    if type(raw_keys) is not list or len(raw_keys) > MAX_KEYS:
        raise ProtocolError(R, f"keys must be a list of at most {MAX_KEYS}")
    keys = []
    for k in raw_keys:
        if type(k) is not list or len(k) != 5:
            raise ProtocolError(R, "a key entry is [kid, pub, accept_from, accept_until, area]")
        keys.append(TrustedKey(bstr(k[0], "kid", R, size=8), bstr(k[1], "pub", R, size=32),
                               uint(k[2], "accept_from", R), uint(k[3], "accept_until", R),
                               uint(k[4], "key area", R)))
    p = cbor_map(require(m, 6, "policy", R), "policy", R)
    policy = Policy(*(uint(p.get(i, d), n, R) for i, (n, d) in enumerate(
        [("min_doses", 0), ("categories", 0b111110), ("clock_policy", 1),
         ("max_unsynced", 7 * 86400), ("reuse_window", 0)], start=1)))
    revoked = _sorted_ids(require(m, 7, "revoked", R), "revoked", MAX_REVOKED)
    other_kids = _sorted_ids(m.get(9, b""), "other_kids", MAX_OTHER_KIDS)
    return TrustList(
        area, uint(require(m, 2, "serial", R), "serial", R),
        uint(require(m, 3, "issued", R), "issued", R),
        uint(require(m, 4, "expires", R), "expires", R),
        keys, policy, revoked, bstr(require(m, 8, "tag_key", R), "tag_key", R, size=16),
        other_kids)


def _sorted_ids(value: object, what: str, maximum: int) -> list[bytes]:
    """A bstr of sorted, distinct 8-byte ids (revoked hashes, other areas' kids) -> list."""
    raw = bstr(value, what, R, maximum=8 * maximum)
    if len(raw) % 8:
        raise ProtocolError(R, f"{what} must be whole 8-byte ids")
    ids = [raw[i:i + 8] for i in range(0, len(raw), 8)]
    if any(a >= b for a, b in zip(ids, ids[1:], strict=False)):
        raise ProtocolError(R, f"{what} must be sorted and distinct")
    return ids


def open_bundle(bundle: bytes, root_pub: bytes, now: int | None) -> tuple[KeyCertificate, TrustList]:
    """Verify the chain root -> key certificate -> trust list; any flaw raises NO_TRUST."""
    try:
        parts = cbor.loads(bundle, reason=R, max_size=MAX_BUNDLE)
        if type(parts) is not list or len(parts) != 2:
            raise ProtocolError(R, "a trust bundle is [keycert, trustlist]")
        keycert = open_keycert(bstr(parts[0], "keycert", R), root_pub, now)
        msg = decode_sign1(bstr(parts[1], "trust list", R), max_size=MAX_BUNDLE)
        msg, _ = verify_sign1(msg, lambda kid: [keycert.pub])
    except ProtocolError as e:
        if e.reason == R:
            raise
        raise ProtocolError(R, e.message) from None
    return keycert, decode_trustlist(msg.payload)
