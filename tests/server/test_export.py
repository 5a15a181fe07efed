"""Scan export: CSV and JSON, filters, cursor pagination, streaming, malformed queries."""

import csv
import io

import pytest
from sqlalchemy import insert

from gerbang_server import db

from .conftest import T0

URL = "/api/v1/admin/scans"


@pytest.fixture
def scans(app, register_device):
    """60 records: door-a (area 1) seq 1-40, door-b (area 2) seq 1-20; every 3rd a deny."""
    register_device("door-a", area=1)
    register_device("door-b", area=2)
    rows = []
    for dev, area, n in (("door-a", 1, 40), ("door-b", 2, 20)):
        for seq in range(1, n + 1):
            rows.append({"device_id": dev, "area_id": area, "seq": seq, "time": T0 + seq * 60,
                         "decision": 0 if seq % 3 == 0 else 1, "reason": 14 if seq % 3 == 0
                         else 0, "clock": 0, "flags": 0, "kid": bytes([seq]) * 8,
                         "tag": bytes([seq + 1]) * 8, "received_at": T0 + 5000})
    with app.app_context(), db.begin() as conn:
        conn.execute(insert(db.scan_records), rows)
    return rows


def get_json(client, auth, query=""):
    r = client.get(URL + query, headers=auth)
    assert r.status_code == 200, r.data
    return r.get_json()


def test_json_all_fields(client, auth, scans):
    body = get_json(client, auth, "?limit=1")
    rec = body["records"][0]
    assert rec == {"id": rec["id"], "device_id": "door-a", "area_id": 1, "seq": 1,
                   "time": T0 + 60, "decision": 1, "reason": 0, "clock": 0, "flags": 0,
                   "kid": "01" * 8, "tag": "02" * 8, "received_at": T0 + 5000}
    assert body["count"] == 1 and body["next_after"] == rec["id"]


def test_json_pagination_covers_everything_once(client, auth, scans):
    seen, after = [], 0
    while True:
        body = get_json(client, auth, f"?limit=7&after={after}")
        seen += [(r["device_id"], r["seq"]) for r in body["records"]]
        if body["next_after"] is None:
            break
        after = body["next_after"]
    assert sorted(seen) == sorted((r["device_id"], r["seq"]) for r in scans)
    assert len(seen) == len(set(seen)) == 60


def test_small_internal_pages_stream_all(app, client, auth, scans):
    app.config["GERBANG_EXPORT_PAGE"] = 4
    body = get_json(client, auth, "?limit=50")
    assert body["count"] == 50 and len({r["id"] for r in body["records"]}) == 50
    r = client.get(URL + "?format=csv", headers=auth)
    assert r.is_streamed
    assert len(list(csv.reader(io.StringIO(r.get_data(as_text=True))))) == 61


@pytest.mark.parametrize("query, expected", [
    ("?area=2", 20),
    ("?device=door-a", 40),
    ("?decision=deny", 13 + 6),
    ("?decision=allow", 27 + 14),
    ("?decision=0&area=1", 13),
    (f"?since={T0 + 60 * 11}", 30 + 10),
    (f"?until={T0 + 60 * 11}", 20),
    (f"?since={T0 + 600}&until={T0 + 1200}&device=door-b", 10),
    ("?device=nobody", 0),
])
def test_filters(client, auth, scans, query, expected):
    body = get_json(client, auth, query + ("&" if "?" in query else "?") + "limit=1000")
    assert body["count"] == expected


def test_csv(client, auth, scans):
    r = client.get(URL + "?format=csv&area=1&decision=deny", headers=auth)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 13
    assert rows[0]["device_id"] == "door-a" and rows[0]["seq"] == "3"
    assert rows[0]["reason"] == "14" and rows[0]["kid"] == "03" * 8
    assert list(rows[0]) == ["id", "device_id", "area_id", "seq", "time", "decision", "reason",
                             "clock", "flags", "kid", "tag", "received_at"]


def test_csv_paged(client, auth, scans):
    r = client.get(URL + "?format=csv&limit=5", headers=auth)
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    r2 = client.get(URL + f"?format=csv&limit=5&after={rows[-1]['id']}", headers=auth)
    rows2 = list(csv.DictReader(io.StringIO(r2.get_data(as_text=True))))
    assert len(rows) == len(rows2) == 5 and int(rows2[0]["id"]) > int(rows[-1]["id"])


def test_empty_export(client, auth):
    assert get_json(client, auth) == {"records": [], "count": 0, "next_after": None}
    r = client.get(URL + "?format=csv", headers=auth)
    assert r.get_data(as_text=True).strip().startswith("id,device_id")


@pytest.mark.parametrize("query", [
    "?format=xml", "?limit=0", "?limit=10001", "?limit=abc", "?after=-1", "?area=x",
    "?since=yesterday", "?until=1.5", "?decision=maybe", f"?since={T0}&until={T0 - 1}",
    "?device=" + "x" * 33,
])
def test_malformed_queries(client, auth, query):
    r = client.get(URL + query, headers=auth)
    assert r.status_code == 400
    assert r.get_json()["error"] == "bad_query" or r.get_json()["error"] == "bad_field"


def test_export_requires_token(client):
    assert client.get(URL).status_code == 401


def test_export_audited(client, auth, scans):
    client.get(URL + "?format=csv&area=2", headers=auth)
    entries = client.get("/api/v1/admin/audit", headers=auth).get_json()["entries"]
    e = next(e for e in entries if e["action"] == "admin.export_scans")
    assert e["details"]["format"] == "csv" and e["details"]["area_id"] == 2
