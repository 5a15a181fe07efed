"""Admin: certificate revocations (``/revocations``): list, revoke by cti."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify

from .. import auth, db
from ..config import now
from ..inputs import get_str, json_body, query_int, query_str
from ..issuing import revoke_certificate
from .resign import refresh_or_note

bp = Blueprint("revocations", __name__)

CTI = re.compile(r"^[0-9a-fA-F]{32}$")


def revocation_json(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "area": r["area_id"], "cti_hash": r["cti_hash"].hex(),
            "revocation_hash": r["cti_hash"][:8].hex(), "exp": r["exp"],
            "revoked_at": r["revoked_at"], "reason": r["reason"]}


@bp.get("/revocations")
def list_revocations() -> Response:
    area = query_int("area", 1, 10**6)
    live = query_str("live") in ("1", "true")
    with db.begin() as conn:
        rows = db.list_revocations(conn, area, live_at=now() if live else None)
    return jsonify({"revocations": [revocation_json(r) for r in rows]})


@bp.post("/revocations")
def revoke_cert() -> tuple[Response, int]:
    data = json_body()
    raw = get_str(data, "cti", 32, pattern=CTI)
    reason = get_str(data, "reason", 200, default=None)
    with db.begin() as conn:
        row = revoke_certificate(conn, bytes.fromhex(raw), now(), reason)
        auth.note(area=row["area_id"], revocation_hash=row["cti_hash"][:8].hex(), reason=reason)
    tl = refresh_or_note(row["area_id"])
    return jsonify({"revocation": revocation_json(row), "trustlist": tl}), 201
