"""Issuer keys per area and the trust-list signer: encryption at rest, rotation, revocation.

Private keys (32-byte Ed25519 seeds) are stored AES-256-GCM encrypted under the key-encryption
key ``GERBANG_KEK`` (32 bytes, hex or base64, from the environment); the additional data binds
each ciphertext to its purpose and kid, so a blob cannot be swapped between rows.

Rotation (per area). Each key has ``activates_at`` (issuing switches to it) and is published in
trust lists ``GERBANG_KEY_PREPUBLISH`` before that, so doors hold it before the first
certificate it signs is shown. ``accept_from`` = activation - ``GERBANG_KEY_CLOCK_SKEW``. A key
is retired when its successor activates; its ``accept_until`` is then
``max(successor activation + GERBANG_CERT_MAX_VALIDITY, latest exp it signed)``: every
certificate it signed stays valid to its end. The newest key has no end yet: its accept_until
in a trust list is ``list expires + max validity`` (moves forward at each re-sign).
Revoked keys leave the trust list at once (doors answer UNKNOWN_KID from the next list on).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Connection

from gerbang_protocol import (
    ProtocolError,
    kid_of,
    load_private_key,
    new_private_key,
    open_keycert,
    private_key_bytes,
    public_key_bytes,
)
from gerbang_protocol.trustlist import MAX_OTHER_KIDS

from . import db
from .errors import ApiError

_NONCE = 12


# --- key-encryption key ------------------------------------------------------------------------

def parse_kek(raw: str | bytes | None) -> bytes:
    """32-byte KEK from hex (64 chars) or base64 text; ValueError when absent or malformed."""
    if raw is None or raw == "":
        raise ValueError("GERBANG_KEK is not set")
    if isinstance(raw, bytes):
        if len(raw) == 32:
            return raw
        raw = raw.decode("ascii")
    text = raw.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ValueError("GERBANG_KEK must be 32 bytes as 64 hex digits or base64")
    return key


def kek() -> bytes:
    raw = current_app.config.get("GERBANG_KEK") or os.environ.get("GERBANG_KEK")
    try:
        return parse_kek(raw)
    except ValueError as e:
        raise ApiError(503, "no_kek", f"{e}: private keys cannot be used") from None


def encrypt_seed(seed: bytes, purpose: str, kid: bytes, key: bytes | None = None) -> bytes:
    nonce = os.urandom(_NONCE)
    aad = b"gerbang:" + purpose.encode() + b":" + kid
    return nonce + AESGCM(key or kek()).encrypt(nonce, seed, aad)


def decrypt_seed(blob: bytes, purpose: str, kid: bytes, key: bytes | None = None) -> bytes:
    aad = b"gerbang:" + purpose.encode() + b":" + kid
    try:
        return AESGCM(key or kek()).decrypt(blob[:_NONCE], blob[_NONCE:], aad)
    except InvalidTag:
        raise ApiError(503, "bad_kek", "a stored private key does not decrypt under "
                       "GERBANG_KEK (wrong KEK?)") from None


# --- issuer keys -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyWindow:
    row: dict[str, Any]
    accept_from: int
    accept_until: int | None  # None: the newest key, open-ended
    state: str  # pending | current | retired

    @property
    def id(self) -> int:
        return self.row["id"]


def create_key(conn: Connection, area_id: int, now: int, activates_at: int | None = None) -> int:
    """A fresh issuer key for ``area_id`` that starts issuing at ``activates_at`` (default now)."""
    activates = now if activates_at is None else activates_at
    priv = new_private_key()
    pub = public_key_bytes(priv)
    kid = kid_of(pub)
    blob = encrypt_seed(private_key_bytes(priv), "issuer", kid)
    skew = current_app.config["GERBANG_KEY_CLOCK_SKEW"]
    return db.insert_issuer_key(conn, area_id=area_id, kid=kid, public_key=pub,
                                private_key_enc=blob, created_at=now, activates_at=activates,
                                accept_from=max(0, activates - skew))


def windows(conn: Connection, area_id: int, now: int) -> list[KeyWindow]:
    """Every live (not revoked) key of the area with its acceptance window, oldest first.
    Keys whose window has closed are left out. A key retires when the next key (in
    activation order, revoked or not) activates."""
    max_validity = current_app.config["GERBANG_CERT_MAX_VALIDITY"]
    everything = db.area_keys(conn, area_id)  # ordered by (activates_at, id)
    max_exp = db.max_exp_by_key(conn, area_id)
    current = current_key_row(everything, now)
    out = []
    for i, k in enumerate(everything):
        if k["revoked_at"] is not None:
            continue
        succ = everything[i + 1] if i + 1 < len(everything) else None
        if succ is None:
            until = None
        else:
            until = max(succ["activates_at"] + max_validity, max_exp.get(k["id"], 0))
            if until <= now:
                continue
        if k["activates_at"] > now:
            state = "pending"
        elif current is not None and k["id"] == current["id"]:
            state = "current"
        else:
            state = "retired"
        out.append(KeyWindow(k, k["accept_from"], until, state))
    return out


# A rotation keeps up to three keys of an area live (pending, current, retired): an area's list
# names that many of each other area's keys, 17 x 3 = 51 <= MAX_OTHER_KIDS.
OTHER_KIDS_PER_AREA = 3


def other_area_kids(conn: Connection, area_id: int) -> list[bytes]:
    """Kids of the other areas' keys (the newest OTHER_KIDS_PER_AREA not revoked of each), for
    an area's list to name (label 9): its doors then deny another area's certificate as
    WRONG_AREA, not as an unknown signer. One query; sorted."""
    per_area: dict[int, list[bytes]] = {}
    for row in db.unrevoked_keys_outside(conn, area_id):  # newest activation first
        kids = per_area.setdefault(row["area_id"], [])
        if len(kids) < OTHER_KIDS_PER_AREA:
            kids.append(row["kid"])
    return sorted({k for kids in per_area.values() for k in kids})[:MAX_OTHER_KIDS]


def current_key_row(everything: list[dict[str, Any]], now: int) -> dict[str, Any] | None:
    """The newest key already active at ``now`` — the one issuing uses — or None when there
    is none or it was revoked (then a new key must be made; never fall back to an older one)."""
    active = [k for k in everything if k["activates_at"] <= now]
    if not active:
        return None
    newest = max(active, key=lambda k: (k["activates_at"], k["id"]))
    return newest if newest["revoked_at"] is None else None


def current_key(conn: Connection, area_id: int, now: int) -> dict[str, Any] | None:
    return current_key_row(db.area_keys(conn, area_id), now)


def signing_key(conn: Connection, area_id: int, now: int,
                create: bool = True) -> tuple[dict[str, Any], Ed25519PrivateKey]:
    """The area's newest active key and its private key (creating a first key if none)."""
    row = current_key(conn, area_id, now)
    if row is None:
        if not create:
            raise ApiError(409, "no_key", f"area {area_id} has no active issuer key")
        create_key(conn, area_id, now)
        row = current_key(conn, area_id, now)
    seed = decrypt_seed(row["private_key_enc"], "issuer", row["kid"])
    return row, load_private_key(seed)


def rotate_due(conn: Connection, area_id: int, now: int) -> list[str]:
    """Scheduled rotation for one area; returns what was done (empty when nothing was due).

    No key at all -> a key active now. Otherwise, when the current key's period ends within
    the pre-publication lead and no successor is waiting, create the successor, activating at
    the end of the period (or now, if that moment has already passed)."""
    period = current_app.config["GERBANG_KEY_ROTATION_PERIOD"]
    lead = current_app.config["GERBANG_KEY_PREPUBLISH"]
    everything = db.area_keys(conn, area_id)
    current = current_key_row(everything, now)
    pending = [k for k in everything if k["activates_at"] > now and k["revoked_at"] is None]
    if current is None and not pending:
        kid = create_key(conn, area_id, now)
        return [f"area {area_id}: first key {kid} active now"]
    if current is None or pending:
        return []
    due = current["activates_at"] + period
    if now >= due - lead:
        new_id = create_key(conn, area_id, now, activates_at=max(now, due))
        return [f"area {area_id}: key {new_id} activates at {max(now, due)}"]
    return []


def rotate_now(conn: Connection, area_id: int, now: int) -> int:
    """Emergency rotation: a new key that issues from now on (not pre-published)."""
    return create_key(conn, area_id, now)


def revoke_key(conn: Connection, key_id: int, now: int, reason: str | None) -> dict[str, Any]:
    row = db.get_issuer_key(conn, key_id)
    if row is None:
        raise ApiError(404, "not_found", f"no issuer key {key_id}")
    if row["revoked_at"] is not None:
        raise ApiError(409, "already_revoked", f"key {key_id} is already revoked")
    db.revoke_issuer_key(conn, key_id, now, reason)
    if current_key(conn, row["area_id"], now) is None:
        # the area's issuing key is gone: its replacement goes out in the same trust list
        create_key(conn, row["area_id"], now)
    return db.get_issuer_key(conn, key_id)


def key_json(w: KeyWindow | dict[str, Any], now: int) -> dict[str, Any]:
    if isinstance(w, KeyWindow):
        row, until, state = w.row, w.accept_until, w.state
    else:
        row, until = w, None
        state = "revoked" if row["revoked_at"] is not None else "closed"
    return {"id": row["id"], "area": row["area_id"], "kid": row["kid"].hex(),
            "public_key": row["public_key"].hex(), "created_at": row["created_at"],
            "activates_at": row["activates_at"], "accept_from": row["accept_from"],
            "accept_until": until, "state": state, "revoked_at": row["revoked_at"],
            "revoke_reason": row["revoke_reason"]}


def all_keys_json(conn: Connection, area_id: int, now: int) -> list[dict[str, Any]]:
    live = {w.id: w for w in windows(conn, area_id, now)}
    return [key_json(live.get(k["id"], k), now) for k in db.area_keys(conn, area_id)]


# --- the trust-list signer ---------------------------------------------------------------------

def import_signer(conn: Connection, priv: Ed25519PrivateKey, keycert: bytes, now: int,
                  root_pub: bytes) -> int:
    """Store the signer key (encrypted) with its root-signed key certificate.

    The key certificate must verify under the root, have role 1, be for this very key and
    not have expired. Raises ValueError with the reason otherwise."""
    pub = public_key_bytes(priv)
    try:
        kc = open_keycert(keycert, root_pub, None)
    except ProtocolError as e:
        raise ValueError(f"bad key certificate: {e}") from None
    if kc.pub != pub:
        raise ValueError("the key certificate is for another key than the signer private key")
    if kc.not_after <= now:
        raise ValueError("the key certificate has already expired")
    kid = kid_of(pub)
    return db.insert_signer(conn, kid=kid, public_key=pub,
                            private_key_enc=encrypt_seed(private_key_bytes(priv), "signer", kid),
                            keycert=keycert, not_before=kc.not_before, not_after=kc.not_after,
                            imported_at=now)


def root_pub() -> bytes | None:
    raw = current_app.config.get("GERBANG_ROOT_PUB")
    if not raw:
        return None
    pub = bytes.fromhex(raw) if isinstance(raw, str) else bytes(raw)
    if len(pub) != 32:
        raise ValueError("GERBANG_ROOT_PUB must be 32 bytes (64 hex digits)")
    return pub


def signer(conn: Connection, now: int) -> tuple[dict[str, Any], Ed25519PrivateKey] | None:
    """The current trust-list signer (row, private key), or None when none is imported/valid.
    The sync engine signs its responses with this key and sends ``row["keycert"]``."""
    row = db.current_signer(conn, now)
    if row is None:
        return None
    return row, load_private_key(decrypt_seed(row["private_key_enc"], "signer", row["kid"]))
