"""Host reference implementation of every Gerbang format (docs/PROTOCOL.md), on cbor2 and
cryptography. The server and the tools import it; the firmware tests compare against it."""

from .cert import Certificate, Status, decode_claims, issue_cose, issue_qr
from .check import Checker, Decision, check_qr
from .cose import Sign1, decode_sign1, keys_by_kid, sign1, verify_sign1
from .errors import ProtocolError, Reason
from .keys import (
    kid_of,
    load_private_key,
    new_private_key,
    private_key_bytes,
    public_key_bytes,
    verify_ed25519,
)
from .qr import decode_qr, encode_qr
from .record import RECORD_SIZE, ScanRecord, split_records
from .sync import (
    BundleRef,
    SyncRequest,
    SyncResponse,
    make_sync_request,
    make_sync_response,
    open_sync_request,
    open_sync_response,
)
from .trustlist import (
    KeyCertificate,
    Policy,
    TrustedKey,
    TrustList,
    decode_trustlist,
    make_bundle,
    make_keycert,
    open_bundle,
    open_keycert,
    revocation_hash,
    sign_trustlist,
    subject_tag,
)

__all__ = [
    "RECORD_SIZE", "Certificate", "Checker", "Decision", "KeyCertificate", "Policy",
    "BundleRef", "ProtocolError", "Reason", "ScanRecord", "Sign1", "Status", "SyncRequest",
    "SyncResponse",
    "TrustList", "TrustedKey", "check_qr", "decode_claims", "decode_qr", "decode_sign1",
    "decode_trustlist", "encode_qr", "issue_cose", "issue_qr", "keys_by_kid", "kid_of",
    "load_private_key", "make_bundle", "make_keycert", "make_sync_request", "make_sync_response",
    "new_private_key", "open_bundle", "open_keycert", "open_sync_request", "open_sync_response",
    "private_key_bytes", "public_key_bytes", "revocation_hash", "sign1", "sign_trustlist",
    "split_records", "subject_tag", "verify_ed25519", "verify_sign1",
]
