"""Issuing certificates for an area, always with the area's newest active issuer key.

Used by ``POST /api/v1/admin/areas/<id>/certificates`` (gerbang_server/admin/certificates.py)
and ``flask --app gerbang_server issue``. Returns the
QR text. Nothing personal is stored: only SHA-256(cti), the area, the key, iat/exp and the
category, which is what revocation and key-window bookkeeping need.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import Connection

from gerbang_protocol import Certificate, Status, issue_qr
from gerbang_protocol.cert import CATEGORIES, MAX_DOSES

from . import db, keys, trustlists
from .config import now
from .errors import ApiError, bad_request
from .lookup import require_area


def cti_hash(cti: bytes) -> bytes:
    return hashlib.sha256(cti).digest()


def issue(area_id: int, category: int, doses: int = 0, areas: list[int] | None = None,
          valid_for: int | None = None, nbf: int | None = None, iss: str | None = None,
          t: int | None = None) -> dict[str, Any]:
    """Sign one certificate with the area's newest key; returns qr, cti, kid and validity."""
    t = now() if t is None else t
    max_validity = current_app.config["GERBANG_CERT_MAX_VALIDITY"]
    valid_for = current_app.config["GERBANG_CERT_DEFAULT_VALIDITY"] if valid_for is None \
        else valid_for
    if category not in CATEGORIES:
        raise bad_request(f"category must be one of {sorted(CATEGORIES)}", "bad_field")
    if not 0 <= doses <= MAX_DOSES:
        raise bad_request(f"doses must be 0..{MAX_DOSES}", "bad_field")
    if not 0 < valid_for <= max_validity:
        raise bad_request(f"valid_for must be 1..{max_validity} seconds", "bad_field")
    nbf = t if nbf is None else nbf
    if not t - 86400 <= nbf <= t + max_validity:
        raise bad_request("nbf must be within a day before now and max validity after",
                          "bad_field")
    exp = min(nbf + valid_for, t + max_validity)  # a key's certificates end within max validity
    if exp <= t:
        raise bad_request("the certificate would already be expired", "bad_field")
    if areas is not None:
        if not areas or len(areas) > 18 or any(type(a) is not int or not 1 <= a <= 18
                                                for a in areas):
            raise bad_request("areas must be a list of 1..18 area ids (1-18)", "bad_field")
        areas = sorted(set(areas))
    with db.begin() as conn:
        area = require_area(conn, area_id)
        created = keys.current_key(conn, area_id, t) is None
        row, priv = keys.signing_key(conn, area_id, t)
        cti = secrets.token_bytes(16)
        cert = Certificate(iss or f"GB/{area['slug']}"[:64], t, nbf, exp, cti,
                           Status(category, doses, tuple(areas) if areas is not None else None))
        try:
            qr = issue_qr(priv, cert)
        except ValueError as e:
            raise ApiError(400, "too_large", f"certificate does not fit a QR: {e}") from None
        db.insert_issued_cert(conn, cti_hash=cti_hash(cti), area_id=area_id, key_id=row["id"],
                              iat=t, exp=exp, category=category)
    if created:  # a first key was made: publish it (doors only accept listed keys; the
        try:       # other areas' lists name it)
            trustlists.publish(area_id, t=t)
        except ApiError as e:
            if e.code not in ("no_signer", "no_kek"):
                raise
    return {"qr": qr, "cti": cti.hex(), "area": area_id, "kid": row["kid"].hex(),
            "key_id": row["id"], "iat": t, "nbf": nbf, "exp": exp}


def revoke_certificate(conn: Connection, cti: bytes, t: int,
                       reason: str | None) -> dict[str, Any]:
    """Revoke a certificate issued here (by its cti); the caller re-signs the area's list."""
    h = cti_hash(cti)
    cert = db.get_issued_cert(conn, h)
    if cert is None:
        raise ApiError(404, "unknown_certificate", "no certificate with this cti was issued here")
    if db.get_revocation(conn, cert["area_id"], h) is not None:
        raise ApiError(409, "already_revoked", "this certificate is already revoked")
    trustlists.check_room(conn, cert["area_id"], t)  # the door's list limit
    db.insert_revocation(conn, area_id=cert["area_id"], cti_hash=h, exp=cert["exp"],
                         revoked_at=t, reason=reason)
    return db.get_revocation(conn, cert["area_id"], h)

