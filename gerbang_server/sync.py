"""``POST /api/v1/sync``: the door units' signed, idempotent log sync (docs/SYNC.md).

Order of checks (nothing in the payload is trusted before the signature verified):
content type (415) -> body size (413) -> COSE_Sign1 structure (400) -> device key by kid,
signature (401) -> payload fields and records: CRC, consecutive seqs, at most 500 (400/413)
-> the verifying key's device is the payload's device_id and is active (403) -> the signer
and the area's trust list are read (503 without a signer) -> in ONE transaction: counter >
last counter (409), rate limit (429), records inserted with ``ON CONFLICT DO NOTHING``,
watermark/gaps/health written; commit -> signed response.
Any error rolls the transaction back: nothing is half-stored.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import Blueprint, Response, current_app, request

from gerbang_protocol import (
    RECORD_SIZE,
    ProtocolError,
    Reason,
    SyncRequest,
    SyncResponse,
    load_private_key,
    make_sync_response,
    open_sync_request,
    split_records,
)
from gerbang_protocol import cbor as pcbor
from gerbang_protocol.cose import decode_sign1
from gerbang_protocol.fields import U32
from gerbang_protocol.sync import MAX_RECORDS, MAX_REQUEST

from . import db, keys, sync_db
from .config import now
from .errors import error_response

bp = Blueprint("sync", __name__, url_prefix="/api/v1")

MEDIA_TYPE = "application/cose"


class SyncError(Exception):
    """A refused sync: becomes ``{"error": code, "message": text}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def min_interval() -> int:
    """GERBANG_SYNC_MIN_INTERVAL (server/config.py; docs/SYNC.md)."""
    return int(current_app.config["GERBANG_SYNC_MIN_INTERVAL"])


@bp.post("/sync")
def sync() -> Response:
    try:
        return _sync()
    except SyncError as e:
        resp = error_response(e.status, e.code, e.message)
        if e.headers:
            resp.headers.update(e.headers)
        return resp


def _read_body() -> bytes:
    ctype = (request.content_type or "").split(";")[0].strip().lower()
    if ctype != MEDIA_TYPE:
        raise SyncError(415, "unsupported_media_type",
                        f"Content-Type must be {MEDIA_TYPE}, not {ctype or 'absent'}")
    length = request.content_length
    if length is not None and length > MAX_REQUEST:
        raise SyncError(413, "too_large", f"body of {length} bytes is over {MAX_REQUEST}")
    data = request.stream.read(MAX_REQUEST + 1)
    if len(data) > MAX_REQUEST:
        raise SyncError(413, "too_large", f"body is over {MAX_REQUEST} bytes")
    if not data:
        raise SyncError(400, "empty_body", "the body is empty; send a signed COSE_Sign1")
    return data


def _payload_error(data: bytes, e: ProtocolError) -> SyncError:
    """Classify a decoding error raised after the signature verified (error path only)."""
    try:
        m = pcbor.loads(decode_sign1(data, MAX_REQUEST).payload)
        recs = m.get(6) if isinstance(m, dict) else None
    except ProtocolError:
        recs = None
    if isinstance(recs, bytes):
        if len(recs) > MAX_RECORDS * RECORD_SIZE:
            return SyncError(413, "too_many_records",
                             f"{len(recs) // RECORD_SIZE} records; at most {MAX_RECORDS} "
                             "per request")
        try:
            split_records(recs)
        except ProtocolError as rec_err:
            return SyncError(400, "bad_record", rec_err.message)
        if "seq" in e.message:
            return SyncError(400, "bad_seq", e.message)
    return SyncError(400, "bad_payload", e.message)


def _open(conn: Any, data: bytes) -> tuple[dict[str, Any], Any]:
    """Verify and decode the request; -> (device row, SyncRequest)."""
    candidates: dict[bytes, list[dict[str, Any]]] = {}
    looked_up = []

    def lookup(kid: bytes) -> list[bytes]:
        looked_up.append(kid)
        rows = db.devices_by_kid(conn, kid, active_only=False)  # retired: 403, not 401
        for r in rows:
            candidates.setdefault(bytes(r["public_key"]), []).append(r)
        return list(candidates)

    try:
        pub, req = open_sync_request(data, lookup)
    except ProtocolError as e:
        if e.reason == Reason.UNKNOWN_KID:
            raise SyncError(401, "unknown_key", "no registered device key with this kid") from None
        if e.reason == Reason.SIGNATURE:
            raise SyncError(401, "bad_signature",
                            "the signature verifies under no device key with this kid") from None
        if not looked_up:  # failed before the kid was read: not our COSE_Sign1
            raise SyncError(400, "malformed", e.message) from None
        raise _payload_error(data, e) from None
    check_ranges(req)
    owners = candidates.get(pub, [])
    device = next((d for d in owners if d["id"] == req.device_id), None)
    if device is None:
        raise SyncError(403, "device_mismatch",
                        f"device_id {req.device_id!r} is not the device whose key signed")
    if device["state"] != "active":
        raise SyncError(403, "device_retired", f"device {device['id']!r} is retired")
    return device, req


# docs/PROTOCOL.md §6: what a door can send (its counter file and the trust lists it can
# hold are 32-bit); anything beyond is refused before it reaches a 64-bit column.
COUNTER_MAX = U32
TRUST_SERIAL_MAX = U32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_ranges(req: SyncRequest) -> None:
    """400 ``bad_payload`` for a counter or trust serial beyond the protocol's range or a
    firmware text with control characters (PostgreSQL text cannot hold NUL)."""
    if req.counter > COUNTER_MAX:
        raise SyncError(400, "bad_payload", f"counter must be at most {COUNTER_MAX}")
    if req.trust_serial > TRUST_SERIAL_MAX:
        raise SyncError(400, "bad_payload", f"trust_serial must be at most {TRUST_SERIAL_MAX}")
    if _CONTROL.search(req.firmware):
        raise SyncError(400, "bad_payload", "firmware must not contain control characters")


_signers: dict[tuple[int, bytes], Any] = {}
_signers_lock = threading.Lock()


def _signer(conn: Any, t: int) -> tuple[bytes, Any]:
    """(keycert, private key) of the current trust-list signer; the decrypted key is cached
    per signer row (decrypting it is the only costly step)."""
    row = db.current_signer(conn, t)
    if row is None:
        raise SyncError(503, "no_signer", "the server has no valid trust-list signer; "
                        "responses cannot be signed")
    cache_key = (row["id"], bytes(row["private_key_enc"]))
    priv = _signers.get(cache_key)
    if priv is None:
        priv = load_private_key(keys.decrypt_seed(row["private_key_enc"], "signer", row["kid"]))
        with _signers_lock:
            _signers[cache_key] = priv
    return bytes(row["keycert"]), priv


def _sync() -> Response:
    data = _read_body()
    t = now()
    with db.begin() as conn:
        device, req = _open(conn, data)
        # reads first, outside the device lock (SQLite: before the write lock is taken)
        keycert, signer = _signer(conn, t)  # none -> 503 before anything is written
        bundle = sync_db.newer_bundle(conn, device["area_id"], req.trust_serial)
        state = sync_db.claim_counter(conn, device["id"], req.counter)
        if state is None:
            why = sync_db.refusal(conn, device["id"])
            if why is None or why["state"] != "active":
                raise SyncError(403, "device_retired", f"device {device['id']!r} is retired")
            raise SyncError(409, "replay", f"counter {req.counter} is not above the last "
                            f"accepted counter {why['last_counter']}")
        n = len(req.records) // RECORD_SIZE
        first, last = req.first_seq, req.first_seq + n - 1
        advances = n > 0 and first <= state.acked_seq + 1 <= last
        interval = min_interval()
        if (interval > 0 and not advances and state.last_sync_at is not None
                and t - state.last_sync_at < interval):
            wait = interval - (t - state.last_sync_at)
            raise SyncError(429, "rate_limited",
                            f"device {device['id']!r} synced {t - state.last_sync_at} s ago; "
                            f"a sync that does not advance the log waits {interval} s",
                            {"Retry-After": str(wait)})
        values: dict[str, Any] = {
            "last_sync_at": t, "last_device_time": req.device_time,
            "health": {str(k): v for k, v in sorted(req.health.items())},
            "firmware": req.firmware, "trust_serial": req.trust_serial,
        }
        acked = state.acked_seq
        if n:
            sync_db.insert_records(conn, device["id"], state.area_id, t,
                                   sync_db.record_rows(req.records))
            acked, max_seq, gaps = sync_db.advance(conn, device["id"], state.acked_seq,
                                                   state.max_seq, first, last)
            values["acked_seq"], values["max_seq"] = acked, max_seq
            if gaps is not None:
                values["gaps"] = gaps
        sync_db.finish(conn, device["id"], **values)
    resp = SyncResponse(req.device_id, acked, t, req.nonce, keycert, bundle,
                        state.config or None)
    return Response(make_sync_response(signer, resp), status=200, mimetype=MEDIA_TYPE)
