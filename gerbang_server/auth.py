"""Admin tokens and the audit log.

A token is ``gbt_`` + 43 url-safe characters (256 random bits), shown once when created
(``flask --app gerbang_server create-token NAME``); the database keeps only its SHA-256. Requests send
``Authorization: Bearer <token>``. Every authenticated admin request is written to the audit
log (actor, action = endpoint, target = path, status, details the view adds to ``g``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from flask import g, request
from sqlalchemy import Connection

from . import db
from .config import now
from .errors import ApiError

PREFIX = "gbt_"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: Connection, name: str, t: int) -> str:
    if not name or len(name) > 100:
        raise ValueError("a token name is 1-100 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    db.insert_token(conn, name, hash_token(token), t)
    db.audit(conn, t, "cli", "token.create", name)
    return token


def authenticate() -> None:
    """before_request of the admin blueprint: sets g.actor or raises 401."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "missing_token", "send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "bad_token", "the Authorization header must be Bearer <token>")
    digest = hash_token(token)
    with db.begin() as conn:
        row = db.token_by_hash(conn, digest)
        # compare_digest: the lookup is by hash already; this keeps the check explicit.
        if row is None or not hmac.compare_digest(row["token_hash"], digest):
            raise ApiError(401, "bad_token", "unknown or revoked token")
        db.touch_token(conn, row["id"], now())
    g.actor = row["name"]
    g.audit_details = None


def note(**details: Any) -> None:
    """Add details to this request's audit entry."""
    current = getattr(g, "audit_details", None) or {}
    current.update(details)
    g.audit_details = current


def action_name(endpoint: str | None) -> str:
    """The audit action of an endpoint: the outer blueprint and the view
    (``admin.devices.get_device`` -> ``admin.get_device``; view names are unique per app)."""
    if not endpoint:
        return "?"
    parts = endpoint.split(".")
    return f"{parts[0]}.{parts[-1]}" if len(parts) > 2 else endpoint


def audit_target(text: str) -> str:
    """The request line as stored: control characters (a NUL in a decoded path would fail
    the insert on PostgreSQL) percent-encoded again, at most 200 characters."""
    return _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", text)[:200]


def write_audit(status: int) -> None:
    actor = getattr(g, "actor", None)
    if actor is None:
        return
    with db.begin() as conn:
        db.audit(conn, now(), actor, action_name(request.endpoint),
                 audit_target(f"{request.method} {request.full_path.rstrip('?')}"), status,
                 getattr(g, "audit_details", None))
