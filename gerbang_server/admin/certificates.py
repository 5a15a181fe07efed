"""Admin: issuing certificates (``POST /areas/<id>/certificates``; gerbang_server/issuing.py
signs them)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gerbang_protocol.cert import MAX_DOSES

from .. import auth, db, keys
from ..errors import bad_request
from ..inputs import get_int, get_str, json_body
from ..issuing import cti_hash, issue
from ..lookup import require_area

bp = Blueprint("certificates", __name__)


@bp.post("/areas/<id:area_id>/certificates")
def issue_certificate(area_id: int) -> tuple[Response, int]:
    data = json_body()
    unknown = set(data) - {"category", "doses", "areas", "valid_for", "nbf", "iss"}
    if unknown:
        raise bad_request(f"unknown fields: {sorted(unknown)}", "unknown_field")
    category = get_int(data, "category", 1, 5)
    doses = get_int(data, "doses", 0, MAX_DOSES, default=0)
    valid_for = get_int(data, "valid_for", 1, 10 * 365 * 86400, default=None)
    nbf = get_int(data, "nbf", 0, 2**32 - 1, default=None)
    iss = get_str(data, "iss", 64, default=None)
    areas = data.get("areas")
    if areas is not None and not isinstance(areas, list):
        raise bad_request("areas must be a list of area ids", "bad_field")
    with db.begin() as conn:
        require_area(conn, area_id)
    keys.kek()
    out = issue(area_id, category, doses, areas, valid_for, nbf, iss)
    auth.note(area=area_id, kid=out["kid"], exp=out["exp"], category=category,
              revocation_hash=cti_hash(bytes.fromhex(out["cti"]))[:8].hex())
    return jsonify(out), 201
