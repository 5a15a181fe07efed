"""Admin: issuer keys and the signer (``/areas/<id>/keys``, ``/keys/<id>/revoke``,
``/areas/<id>/trustlist/resign``, ``/signer``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import auth, db, keys, trustlists
from ..config import now
from ..inputs import get_str, json_body
from ..lookup import require_area
from .resign import refresh_or_note

bp = Blueprint("keys", __name__)


@bp.get("/areas/<id:area_id>/keys")
def list_keys(area_id: int) -> Response:
    t = now()
    with db.begin() as conn:
        require_area(conn, area_id)
        return jsonify({"keys": keys.all_keys_json(conn, area_id, t)})


@bp.post("/areas/<id:area_id>/keys/rotate")
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


@bp.post("/keys/<id:key_id>/revoke")
def revoke_key(key_id: int) -> Response:
    data = json_body() if request.content_length else {}
    reason = get_str(data, "reason", 200, default=None)
    t = now()
    with db.begin() as conn:
        row = keys.revoke_key(conn, key_id, t, reason)
        auth.note(key=key_id, area=row["area_id"], reason=reason)
    tl = refresh_or_note(row["area_id"])
    return jsonify({"key": keys.key_json(row, t), "trustlist": tl})


@bp.post("/areas/<id:area_id>/trustlist/resign")
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
