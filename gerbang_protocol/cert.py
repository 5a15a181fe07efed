"""Certificates: CWT claims (RFC 8392) with Gerbang's status claim, docs/PROTOCOL.md §2."""

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import cbor
from .cose import sign1
from .errors import ProtocolError, Reason
from .fields import bstr, cbor_map, require, tstr, uint
from .qr import encode_qr

CLAIM_ISS, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CTI = 1, 4, 5, 6, 7
CLAIM_STATUS = -65537
CATEGORIES = {1: "vaccination", 2: "recovery", 3: "negative test", 4: "medical exemption", 5: "staff"}
MAX_DOSES = 15
AREA_IDS = range(1, 19)


@dataclass(frozen=True)
class Status:
    category: int
    doses: int = 0
    areas: tuple[int, ...] | None = None

    def to_cbor(self) -> list:
        out: list = [self.category, self.doses]
        if self.areas is not None:
            out.append(list(self.areas))
        return out


@dataclass(frozen=True)
class Certificate:
    iss: str
    iat: int
    nbf: int
    exp: int
    cti: bytes
    status: Status

    def claims(self) -> dict:
        return {CLAIM_ISS: self.iss, CLAIM_IAT: self.iat, CLAIM_NBF: self.nbf,
                CLAIM_EXP: self.exp, CLAIM_CTI: self.cti, CLAIM_STATUS: self.status.to_cbor()}


def encode_claims(cert: Certificate) -> bytes:
    return cbor.dumps(cert.claims())


def issue_cose(key: Ed25519PrivateKey, cert: Certificate) -> bytes:
    return sign1(key, encode_claims(cert))


def issue_qr(key: Ed25519PrivateKey, cert: Certificate) -> str:
    return encode_qr(issue_cose(key, cert))


def decode_claims(payload: bytes) -> Certificate:
    """Claims of a payload whose signature has already been verified; bad ones -> CLAIMS."""
    r = Reason.CLAIMS
    m = cbor_map(cbor.loads(payload, reason=r), "claims", r)
    for label in m:
        if type(label) not in (int, str):
            raise ProtocolError(r, "claim labels must be integers or text")
    iss = tstr(m.get(CLAIM_ISS, ""), "iss", r, 64)
    iat = uint(require(m, CLAIM_IAT, "iat", r), "iat", r)
    nbf = uint(require(m, CLAIM_NBF, "nbf", r), "nbf", r)
    exp = uint(require(m, CLAIM_EXP, "exp", r), "exp", r)
    cti = bstr(require(m, CLAIM_CTI, "cti", r), "cti", r, size=16)
    return Certificate(iss, iat, nbf, exp, cti, _status(require(m, CLAIM_STATUS, "status", r)))


def _status(value: object) -> Status:
    r = Reason.CLAIMS
    if type(value) is not list or len(value) not in (2, 3):
        raise ProtocolError(r, "status must be [category, doses] or [category, doses, areas]")
    category = uint(value[0], "category", r)
    if category not in CATEGORIES:
        raise ProtocolError(r, f"unknown category {category}")
    doses = uint(value[1], "doses", r, MAX_DOSES)
    areas = None
    if len(value) == 3:
        if type(value[2]) is not list or not 1 <= len(value[2]) <= len(AREA_IDS):
            raise ProtocolError(r, "areas must be a list of 1 to 18 area ids")
        areas = tuple(uint(a, "area", r) for a in value[2])
        if any(a not in AREA_IDS for a in areas):
            raise ProtocolError(r, "area ids are 1 to 18")
    return Status(category, doses, areas)
