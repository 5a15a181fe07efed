"""Admin API, ``/api/v1/admin/...``: token auth (server/auth.py), every request audited.

Areas, devices, issuer keys, revocations, audit log here; certificate issuing
(server/issuing.py), scan export (server/export.py) and fleet health (server/fleet.py) attach
their routes to the same blueprint. docs/SERVER.md is the reference.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from gerbang_protocol import device_config, kid_of

from . import auth, db, keys, trustlists
from .config import now
from .errors import ApiError, bad_request, conflict, not_found

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
POLICY_FIELDS = {"min_doses": (0, 15), "categories": (0, 0b111110), "clock_policy": (0, 1),
                 "max_unsynced": (0, 365 * 86400), "reuse_window": (0, 86400)}


@bp.before_request
def _auth() -> None:
    auth.authenticate()


@bp.after_request
def _audit(resp: Response) -> Response:
    auth.write_audit(resp.status_code)
    return resp


# --- input helpers -----------------------------------------------------------------------------

def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 (bad_json / not an object)."""
    if not request.is_json:
        raise bad_request("send a JSON object with Content-Type: application/json", "bad_json")
    data = request.get_json(silent=True)
    if data is None:
        raise bad_request("the body is not valid JSON", "bad_json")
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object", "bad_json")
    return data


def get_int(data: dict[str, Any], name: str, lo: int, hi: int, default: Any = ...) -> int:
    if name not in data:
        if default is ...:
            raise bad_request(f"missing field {name!r}", "missing_field")
        return default
    v = data[name]
    if type(v) is not int:
        raise bad_request(f"{name!r} must be an integer", "bad_field")
    if not lo <= v <= hi:
        raise bad_request(f"{name!r} must be {lo}..{hi}", "bad_field")
    return v


def get_str(data: dict[str, Any], name: str, max_len: int, default: Any = ...,
            pattern: re.Pattern | None = None) -> str:
    if name not in data:
        if default is ...:
            raise bad_request(f"missing field {name!r}", "missing_field")
        return default
    v = data[name]
    if not isinstance(v, str) or not 0 < len(v) <= max_len:
        raise bad_request(f"{name!r} must be a string of 1..{max_len} characters", "bad_field")
    if pattern is not None and not pattern.match(v):
        raise bad_request(f"{name!r} has an invalid format", "bad_field")
    return v


def query_int(name: str, lo: int = 0, hi: int = 2**63 - 1) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", raw):
        raise bad_request(f"query parameter {name!r} must be an integer", "bad_query")
    v = int(raw)
    if not lo <= v <= hi:
        raise bad_request(f"query parameter {name!r} must be {lo}..{hi}", "bad_query")
    return v


def decode_key(raw: Any, name: str = "public_key") -> bytes:
    """32 raw bytes from hex (64 digits) or base64 text."""
    if not isinstance(raw, str):
        raise bad_request(f"{name!r} must be a hex or base64 string", "bad_field")
    out = b""
    if re.fullmatch(r"[0-9a-fA-F]*", raw) and len(raw) % 2 == 0:
        out = bytes.fromhex(raw)
    else:
        try:
            out = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f"{name!r} is neither hex nor base64", "bad_field") from None
    if len(out) != 32:
        raise bad_request(f"{name!r} must be 32 bytes (got {len(out)})", "bad_key_length")
    return out


def require_area(conn, area_id: int) -> dict[str, Any]:
    area = db.get_area(conn, area_id)
    if area is None:
        raise not_found(f"no area {area_id}", "unknown_area")
    return area


def area_json(conn, area: dict[str, Any]) -> dict[str, Any]:
    return {"id": area["id"], "slug": area["slug"], "name": area["name"],
            "policy": {**db.DEFAULT_POLICY, **db.loads(area["policy"], {})},
            "trustlist": trustlists.summary(db.latest_trustlist(conn, area["id"]))}


def device_json(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "area": d["area_id"], "public_key": d["public_key"].hex(),
            "kid": d["kid"].hex(), "state": d["state"], "firmware": d["firmware"],
            "registered_at": d["registered_at"], "retired_at": d["retired_at"],
            "last_sync_at": d["last_sync_at"], "health": db.loads(d["health"]),
            "acked_seq": d["acked_seq"], "max_seq": d["max_seq"],
            "gaps": db.loads(d["gaps"], []), "trust_serial": d["trust_serial"],
            "config": db.loads(d["config"])}


def refresh_or_note(area_id: int) -> dict[str, Any] | None:
    """Re-sign the area's trust list now; without a signer the change waits (noted)."""
    try:
        return trustlists.summary(trustlists.refresh(area_id))
    except ApiError as e:
        if e.code in ("no_signer", "no_kek"):
            auth.note(trustlist_pending=e.message)
            return None
        raise


# --- areas -------------------------------------------------------------------------------------

@bp.get("/areas")
def list_areas() -> Response:
    with db.begin() as conn:
        return jsonify({"areas": [area_json(conn, a) for a in db.list_areas(conn)]})


@bp.get("/areas/<int:area_id>")
def get_area(area_id: int) -> Response:
    t = now()
    with db.begin() as conn:
        area = require_area(conn, area_id)
        out = area_json(conn, area)
        out["keys"] = keys.all_keys_json(conn, area_id, t)
        out["devices"] = len(db.list_devices(conn, area_id=area_id))
    return jsonify(out)


@bp.patch("/areas/<int:area_id>")
def patch_area(area_id: int) -> Response:
    data = json_body()
    unknown = set(data) - {"name", "policy"}
    if unknown:
        raise bad_request(f"unknown fields: {sorted(unknown)}", "unknown_field")
    with db.begin() as conn:
        area = require_area(conn, area_id)
        values: dict[str, Any] = {}
        if "name" in data:
            values["name"] = get_str(data, "name", 200)
        if "policy" in data:
            p = data["policy"]
            if not isinstance(p, dict):
                raise bad_request("'policy' must be an object", "bad_field")
            bad = set(p) - set(POLICY_FIELDS)
            if bad:
                raise bad_request(f"unknown policy fields: {sorted(bad)}", "unknown_field")
            policy = {**db.DEFAULT_POLICY, **db.loads(area["policy"], {})}
            for k, (lo, hi) in POLICY_FIELDS.items():
                if k in p:
                    policy[k] = get_int(p, k, lo, hi)
            values["policy"] = policy
        if values:
            db.set_area(conn, area_id, **values)
        auth.note(**{k: v for k, v in values.items()})
    tl = refresh_or_note(area_id) if "policy" in data else None
    with db.begin() as conn:
        out = area_json(conn, db.get_area(conn, area_id))
    out["trustlist"] = tl or out["trustlist"]
    return jsonify(out)


# --- devices -----------------------------------------------------------------------------------

@bp.get("/devices")
def list_devices() -> Response:
    area = query_int("area", 1, 10**6)
    state = request.args.get("state")
    if state not in (None, "active", "retired"):
        raise bad_request("state must be active or retired", "bad_query")
    with db.begin() as conn:
        rows = db.list_devices(conn, area_id=area, state=state)
    return jsonify({"devices": [device_json(d) for d in rows]})


@bp.post("/devices")
def register_device() -> tuple[Response, int]:
    data = json_body()
    device_id = get_str(data, "id", 32, pattern=DEVICE_ID)
    area_id = get_int(data, "area", 1, 10**6)
    if "public_key" not in data:
        raise bad_request("missing field 'public_key'", "missing_field")
    pub = decode_key(data["public_key"])
    firmware = get_str(data, "firmware", 32, default=None)
    t = now()
    with db.begin() as conn:
        require_area(conn, area_id)
        if db.get_device(conn, device_id) is not None:
            raise conflict(f"device {device_id} already exists", "device_exists")
        db.insert_device(conn, device_id, area_id, pub, kid_of(pub), t, firmware)
        auth.note(device=device_id, area=area_id, kid=kid_of(pub).hex())
        out = device_json(db.get_device(conn, device_id))
    return jsonify(out), 201


def _device(conn, device_id: str) -> dict[str, Any]:
    d = db.get_device(conn, device_id)
    if d is None:
        raise not_found(f"no device {device_id}", "unknown_device")
    return d


@bp.get("/devices/<device_id>")
def get_device(device_id: str) -> Response:
    with db.begin() as conn:
        return jsonify(device_json(_device(conn, device_id)))


@bp.patch("/devices/<device_id>")
def patch_device(device_id: str) -> Response:
    data = json_body()
    unknown = set(data) - {"area", "config", "firmware"}
    if unknown:
        raise bad_request(f"unknown fields: {sorted(unknown)}", "unknown_field")
    with db.begin() as conn:
        d = _device(conn, device_id)
        if d["state"] != "active":
            raise conflict(f"device {device_id} is retired", "device_retired")
        values: dict[str, Any] = {}
        if "area" in data:
            values["area_id"] = get_int(data, "area", 1, 10**6)
            require_area(conn, values["area_id"])
            if values["area_id"] != d["area_id"]:
                values["trust_serial"] = 0  # a new area's list must be sent
        if "config" in data:
            c = data["config"]
            if c is not None and not isinstance(c, dict):
                raise bad_request("'config' must be an object or null", "bad_field")
            if c:  # exactly what the door applies (gerbang_protocol.device_config)
                try:
                    c = device_config.check(c)
                except device_config.ConfigError as e:
                    raise bad_request(str(e), "bad_config") from None
            values["config"] = db.dumps(c) if c else None
        if "firmware" in data:
            values["firmware"] = get_str(data, "firmware", 32)
        if values:
            db.update_device(conn, device_id, **values)
        auth.note(device=device_id, **{k: v for k, v in values.items()})
        return jsonify(device_json(db.get_device(conn, device_id)))


@bp.post("/devices/<device_id>/retire")
def retire_device(device_id: str) -> Response:
    with db.begin() as conn:
        d = _device(conn, device_id)
        if d["state"] == "retired":
            raise conflict(f"device {device_id} is already retired", "device_retired")
        db.update_device(conn, device_id, state="retired", retired_at=now())
        auth.note(device=device_id)
        return jsonify(device_json(db.get_device(conn, device_id)))


# --- issuer keys -------------------------------------------------------------------------------

@bp.get("/areas/<int:area_id>/keys")
def list_keys(area_id: int) -> Response:
    t = now()
    with db.begin() as conn:
        require_area(conn, area_id)
        return jsonify({"keys": keys.all_keys_json(conn, area_id, t)})


@bp.post("/areas/<int:area_id>/keys/rotate")
def rotate_key(area_id: int) -> tuple[Response, int]:
    t = now()
    keys.kek()  # refuse before touching anything
    with db.begin() as conn:
        require_area(conn, area_id)
        key_id = keys.rotate_now(conn, area_id, t)
        auth.note(area=area_id, key=key_id)
    tl = refresh_or_note(area_id)
    with db.begin() as conn:
        key = next(k for k in keys.all_keys_json(conn, area_id, t) if k["id"] == key_id)
    return jsonify({"key": key, "trustlist": tl}), 201


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int) -> Response:
    data = json_body() if request.content_length else {}
    reason = get_str(data, "reason", 200, default=None)
    t = now()
    with db.begin() as conn:
        row = keys.revoke_key(conn, key_id, t, reason)
        auth.note(key=key_id, area=row["area_id"], reason=reason)
    tl = refresh_or_note(row["area_id"])
    return jsonify({"key": keys.key_json(row, t), "trustlist": tl})


@bp.post("/areas/<int:area_id>/trustlist/resign")
def resign(area_id: int) -> Response:
    with db.begin() as conn:
        require_area(conn, area_id)
    row = trustlists.refresh(area_id, force=True)
    auth.note(area=area_id, serial=row["serial"])
    return jsonify({"trustlist": trustlists.summary(row)})


@bp.get("/signer")
def signer_info() -> Response:
    t = now()
    with db.begin() as conn:
        cur = db.current_signer(conn, t)
        rows = db.list_signers(conn)
    return jsonify({"current": cur["id"] if cur else None, "signers": [
        {"id": r["id"], "kid": r["kid"].hex(), "public_key": r["public_key"].hex(),
         "not_before": r["not_before"], "not_after": r["not_after"],
         "imported_at": r["imported_at"]} for r in rows]})


# --- certificate revocations -------------------------------------------------------------------

def revocation_json(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "area": r["area_id"], "cti_hash": r["cti_hash"].hex(),
            "revocation_hash": r["cti_hash"][:8].hex(), "exp": r["exp"],
            "revoked_at": r["revoked_at"], "reason": r["reason"]}


@bp.get("/revocations")
def list_revocations() -> Response:
    area = query_int("area", 1, 10**6)
    live = request.args.get("live") in ("1", "true")
    with db.begin() as conn:
        rows = db.list_revocations(conn, area, live_at=now() if live else None)
    return jsonify({"revocations": [revocation_json(r) for r in rows]})


@bp.post("/revocations")
def revoke_cert() -> tuple[Response, int]:
    from .issuing import revoke_certificate

    data = json_body()
    raw = get_str(data, "cti", 32, pattern=re.compile(r"^[0-9a-fA-F]{32}$"))
    reason = get_str(data, "reason", 200, default=None)
    with db.begin() as conn:
        row = revoke_certificate(conn, bytes.fromhex(raw), now(), reason)
        auth.note(area=row["area_id"], revocation_hash=row["cti_hash"][:8].hex(), reason=reason)
    tl = refresh_or_note(row["area_id"])
    return jsonify({"revocation": revocation_json(row), "trustlist": tl}), 201


# --- audit log ---------------------------------------------------------------------------------

@bp.get("/audit")
def audit_log() -> Response:
    after = query_int("after", 0) or 0
    limit = query_int("limit", 1, 1000) or 100
    with db.begin() as conn:
        rows = db.list_audit(conn, after, limit)
    for r in rows:
        r["details"] = db.loads(r["details"])
    return jsonify({"entries": rows, "next_after": rows[-1]["id"] if len(rows) == limit else None})
