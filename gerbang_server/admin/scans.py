"""Admin: scan export (``/scans``, CSV or JSON, streamed; the rows come from
gerbang_server/export.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, stream_with_context

from .. import auth, export
from ..inputs import query_int, query_str

bp = Blueprint("scans", __name__)


@bp.get("/scans")
def export_scans() -> Response:
    fmt = query_str("format", ("json", "csv")) or "json"
    filters = export.request_filters()
    after = query_int("after", 0) or 0
    max_page = current_app.config["GERBANG_EXPORT_MAX_PAGE"]
    limit = query_int("limit", 1, max_page)
    page = current_app.config["GERBANG_EXPORT_PAGE"]
    if fmt == "json" and limit is None:
        limit = page
    auth.note(format=fmt, after=after, limit=limit,
              **{k: v for k, v in filters.items() if v is not None})
    rows = export.scan_rows(filters, after, limit, page)
    if fmt == "csv":
        return Response(stream_with_context(export.csv_lines(rows)), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=scans.csv"})
    return Response(stream_with_context(export.json_parts(rows, limit)),
                    mimetype="application/json")
