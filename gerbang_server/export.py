"""Scan export, served at ``GET /api/v1/admin/scans?format=csv|json`` (admin/scans.py), with
filters (area, device, since, until, decision) and an id cursor (``after``, ``limit``). Both
formats are streamed: rows are read from the database page by page while the response is
written.

JSON: ``{"records": [...], "next_after": id|null}``; ``next_after`` is set when ``limit`` rows
were returned (ask again with ``after=<next_after>``). CSV: a header line then one line per
record; CSV pages are asked the same way, the last row's ``id`` being the next ``after``.
Without ``limit`` CSV streams every matching row (JSON defaults to ``GERBANG_EXPORT_PAGE``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from . import db
from .errors import bad_request
from .inputs import query_device, query_int, query_str

COLUMNS = ["id", "device_id", "area_id", "seq", "time", "decision", "reason", "clock", "flags",
           "kid", "tag", "received_at"]


def record_json(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: r[k] for k in COLUMNS}
    out["kid"] = bytes(r["kid"]).hex()
    out["tag"] = bytes(r["tag"]).hex()
    return out


def request_filters() -> dict[str, Any]:
    """Every filter checked before the first row is read (an error after the answer's first
    bytes would cut it)."""
    decision = query_str("decision", ("allow", "deny", "0", "1"))
    device = query_device()
    since, until = query_int("since", 0), query_int("until", 0)
    if since is not None and until is not None and until < since:
        raise bad_request("until must not be before since", "bad_query")
    return {"area_id": query_int("area", 1, 10**6), "device_id": device, "since": since,
            "until": until,
            "decision": None if not decision else (1 if decision in ("allow", "1") else 0)}


def scan_rows(filters: dict[str, Any], after: int, limit: int | None,
          page: int) -> Iterator[dict[str, Any]]:
    """Matching rows in id order, fetched ``page`` at a time, each page its own short read."""
    sent = 0
    eng = db.engine()
    while limit is None or sent < limit:
        n = page if limit is None else min(page, limit - sent)
        with eng.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(db.scan_query(after=after, limit=n,
                                                                         **filters))]
        yield from rows
        sent += len(rows)
        if len(rows) < n:
            return
        after = rows[-1]["id"]


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for i, r in enumerate(rows, 1):
        j = record_json(r)
        w.writerow([j[c] for c in COLUMNS])
        if i % 200 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def json_parts(rows: Iterator[dict[str, Any]], limit: int | None) -> Iterator[str]:
    yield '{"records":['
    n, last = 0, None
    for r in rows:
        yield ("," if n else "") + json.dumps(record_json(r), separators=(",", ":"))
        n, last = n + 1, r["id"]
    nxt = last if limit is not None and n == limit else None
    yield '],"count":' + str(n) + ',"next_after":' + json.dumps(nxt) + "}"
