"""Admin: the audit log (``/audit``), oldest first, id cursor."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import db
from ..inputs import INT32_MAX, query_cursor, query_int

bp = Blueprint("audit", __name__)


@bp.get("/audit")
def audit_log() -> Response:
    after = query_cursor("after", INT32_MAX)
    limit = query_int("limit", 1, 1000) or 100
    with db.begin() as conn:
        rows = db.list_audit(conn, after, limit)
    return jsonify({"entries": rows, "next_after": rows[-1]["id"] if len(rows) == limit else None})
