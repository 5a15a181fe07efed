"""The signed sync request and response (docs/PROTOCOL.md §6)."""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import cbor
from .cose import decode_sign1, sign1, verify_sign1
from .errors import ProtocolError, Reason
from .fields import bstr, cbor_map, require, tstr, uint
from .record import RECORD_SIZE, ScanRecord, check_records, split_records
from .trustlist import MAX_BUNDLE

MAX_RECORDS = 500
MAX_REQUEST = 64 * 1024
MAX_RESPONSE = 64 * 1024
U64 = 2**64 - 1
R = Reason.CBOR


@dataclass(frozen=True)
class SyncRequest:
    device_id: str
    counter: int
    nonce: bytes
    device_time: int
    first_seq: int
    records: bytes
    trust_serial: int
    firmware: str
    health: dict[int, int]

    def to_cbor(self) -> dict:
        return {1: self.device_id, 2: self.counter, 3: self.nonce, 4: self.device_time,
                5: self.first_seq, 6: self.records, 7: self.trust_serial, 8: self.firmware,
                9: dict(self.health)}

    def scan_records(self) -> list[ScanRecord]:
        """The records, CRC-checked, with consecutive sequence numbers from first_seq."""
        recs = split_records(self.records)
        for i, rec in enumerate(recs):
            if rec.seq != self.first_seq + i:
                raise ProtocolError(R, f"record {i} has seq {rec.seq}, not {self.first_seq + i}")
        return recs


@dataclass(frozen=True)
class BundleRef:
    """A newer trust bundle, named in a sync answer and fetched by the door on its own
    (GET /api/v1/areas/<area>/trustlist?serial=N, streamed to flash): the answer stays a few
    hundred bytes whatever the list's size. The signed size and SHA-256 bind the download."""

    serial: int
    size: int
    sha256: bytes

    @classmethod
    def of(cls, serial: int, bundle: bytes) -> "BundleRef":
        return cls(serial, len(bundle), hashlib.sha256(bundle).digest())

    def to_cbor(self) -> list:
        return [self.serial, self.size, self.sha256]


@dataclass(frozen=True)
class SyncResponse:
    device_id: str
    acked_seq: int
    server_time: int
    nonce: bytes
    keycert: bytes
    bundle: BundleRef | None = None
    config: dict[int, int] | None = None

    def to_cbor(self) -> dict:
        m: dict = {1: self.device_id, 2: self.acked_seq, 3: self.server_time, 4: self.nonce,
                   5: self.keycert}
        if self.bundle is not None:
            m[8] = self.bundle.to_cbor()
        if self.config:
            m[7] = dict(self.config)
        return m


def _int_map(value: object, name: str) -> dict[int, int]:
    m = cbor_map(value, name, R)
    return {uint(k, name + " key", R, 255): uint(v, name + " value", R, U64) for k, v in m.items()}


def make_sync_request(device_key: Ed25519PrivateKey, req: SyncRequest) -> bytes:
    return sign1(device_key, cbor.dumps(req.to_cbor()))


def open_sync_request(
    data: bytes, lookup: Callable[[bytes], Iterable[bytes]]
) -> tuple[bytes, SyncRequest]:
    """Verify the device signature first (lookup: kid -> candidate device keys), then decode."""
    if len(data) > MAX_REQUEST:
        raise ProtocolError(R, f"request over {MAX_REQUEST} bytes")
    msg, pub = verify_sign1(decode_sign1(data, MAX_REQUEST), lookup)
    m = cbor_map(cbor.loads(msg.payload), "sync request", R)
    records = bstr(require(m, 6, "records", R), "records", R, maximum=MAX_RECORDS * RECORD_SIZE)
    first_seq = uint(require(m, 5, "first_seq", R), "first_seq", R)
    if records and first_seq == 0:
        raise ProtocolError(R, "first_seq is 0 but records are present")
    req = SyncRequest(
        tstr(require(m, 1, "device_id", R), "device_id", R, 32),
        uint(require(m, 2, "counter", R), "counter", R),
        bstr(require(m, 3, "nonce", R), "nonce", R, size=16),
        uint(require(m, 4, "device_time", R), "device_time", R),
        first_seq, records,
        uint(require(m, 7, "trust_serial", R), "trust_serial", R),
        tstr(require(m, 8, "firmware", R), "firmware", R, 32),
        _int_map(m.get(9, {}), "health"),
    )
    check_records(records, first_seq)
    return pub, req


def make_sync_response(signer: Ed25519PrivateKey, resp: SyncResponse) -> bytes:
    return sign1(signer, cbor.dumps(resp.to_cbor()))


def open_sync_response(data: bytes, signer_pub: bytes) -> SyncResponse:
    msg, _ = verify_sign1(decode_sign1(data, MAX_RESPONSE), lambda kid: [signer_pub])
    m = cbor_map(cbor.loads(msg.payload), "sync response", R)
    return SyncResponse(
        tstr(require(m, 1, "device_id", R), "device_id", R, 32),
        uint(require(m, 2, "acked_seq", R), "acked_seq", R),
        uint(require(m, 3, "server_time", R), "server_time", R),
        bstr(require(m, 4, "nonce", R), "nonce", R, size=16),
        bstr(require(m, 5, "keycert", R), "keycert", R, maximum=1024),
        _bundle_ref(m[8]) if 8 in m else None,
        _int_map(m[7], "config") if 7 in m else None,
    )


def _bundle_ref(value: object) -> BundleRef:
    if type(value) is not list or len(value) != 3:
        raise ProtocolError(R, "bundle must be [serial, size, sha256]")
    return BundleRef(uint(value[0], "bundle serial", R),
                     uint(value[1], "bundle size", R, MAX_BUNDLE),
                     bstr(value[2], "bundle sha256", R, size=32))
