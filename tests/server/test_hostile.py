"""Hostile input to the server (issue 10), on SQLite and on the real PostgreSQL: ids beyond a
column's range, integers beyond the protocol's, NUL characters, deep JSON, oversized bodies.
Nothing answers 5xx, nothing is stored, and the security headers are on every answer.

One test per class of fault, then a sweep over every route of ``app.url_map``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from gerbang_protocol import SyncRequest, make_sync_request

from .test_sync import COSE, URL, Door, records, refused

INT32_OVER = 2**31
HUGE = "99999999999999999999"
DEEP = "[" * 50_000
NUL = "\x00"
BIG = 2**64


def snapshot(app: Any) -> dict[str, list[tuple]]:
    """Every table's rows, except what a request may change without changing anything:
    the audit log (it records the attempts) and the tokens' last use."""
    from gerbang_server import db

    out = {}
    with app.app_context(), db.begin() as conn:
        for table in db.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            cols = [c for c in table.c if c.name != "last_used_at"]
            rows = conn.execute(select(*cols)).all()
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


def audit_entries(app: Any) -> list[dict[str, Any]]:
    from gerbang_server import db

    with app.app_context(), db.begin() as conn:
        return db.list_audit(conn, 0, 1000)


def assert_headers(resp: Any, path: str) -> None:
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
    if path.startswith("/api/v1/admin"):
        assert resp.headers.get("Cache-Control") == "no-store", path


# --- ids beyond the column's range ------------------------------------------------------------

@pytest.mark.parametrize("area", [HUGE, str(INT32_OVER), str(2**63), "9223372036854775807"])
def test_trustlist_id_beyond_range_is_404(client, area):
    r = client.get(f"/api/v1/areas/{area}/trustlist")
    assert r.status_code == 404
    assert r.get_json()["error"] in ("not_found", "unknown_area")


ADMIN_ID_ROUTES = [
    ("GET", "/areas/{}"), ("PATCH", "/areas/{}"), ("GET", "/areas/{}/keys"),
    ("POST", "/areas/{}/keys/rotate"), ("POST", "/keys/{}/revoke"),
    ("POST", "/areas/{}/trustlist/resign"), ("POST", "/areas/{}/certificates"),
]


@pytest.mark.parametrize("value", [HUGE, str(INT32_OVER), str(2**63)])
@pytest.mark.parametrize("method,route", ADMIN_ID_ROUTES)
def test_admin_id_beyond_range_is_404(app, client, auth, area_ready, method, route, value):
    before = snapshot(app)
    r = client.open("/api/v1/admin" + route.format(value), method=method, headers=auth,
                    json={"name": "x", "category": 1})
    assert r.status_code == 404, r.get_json()
    assert snapshot(app) == before


@pytest.mark.parametrize("name,value", [("after", str(INT32_OVER)), ("after", str(2**63 - 1))])
def test_audit_cursor_beyond_range_is_empty(client, auth, name, value):
    r = client.get(f"/api/v1/admin/audit?{name}={value}", headers=auth)
    assert r.status_code == 200
    assert r.get_json() == {"entries": [], "next_after": None}


@pytest.mark.parametrize("query", [f"after={2**63 - 1}", f"area={INT32_OVER}",
                                   f"since={2**63 - 1}", f"until={2**63 - 1}"])
def test_export_cursor_and_filters_beyond_range(client, auth, query):
    for fmt in ("json", "csv"):
        r = client.get(f"/api/v1/admin/scans?format={fmt}&{query}", headers=auth)
        body = r.get_data()  # read the whole stream
        r.close()
        assert r.status_code in (200, 400), (query, body[:200])
        if r.status_code == 200 and fmt == "json":
            assert r.get_json()["records"] == []


@pytest.mark.parametrize("query", [f"area={HUGE}", f"area={INT32_OVER}"])
def test_list_filters_beyond_range(client, auth, query):
    for path in ("/devices", "/revocations"):
        r = client.get(f"/api/v1/admin{path}?{query}", headers=auth)
        assert r.status_code == 400 and r.get_json()["error"] == "bad_query"


# --- sync integers beyond the protocol's ranges -------------------------------------------------

def _signed(door: Door, counter: int, trust_serial: int = 0, firmware: str = "0.1.0",
            device_time: int | None = None) -> bytes:
    req = SyncRequest(door.id, counter, b"N" * 16,
                      door.clock.t if device_time is None else device_time, 0, b"",
                      trust_serial, firmware, {1: 1})
    return make_sync_request(door.priv, req)


@pytest.fixture
def door(client, clock, area_ready, register_device) -> Door:
    priv, _ = register_device("door-1")
    return Door(client, clock, priv, "door-1")


@pytest.mark.parametrize("field,value", [
    ("counter", 2**32), ("counter", 2**63), ("counter", 2**64 - 1),
    ("trust_serial", 2**32), ("trust_serial", 2**63), ("trust_serial", 2**64 - 1),
])
def test_sync_integer_beyond_range_is_bad_payload(app, door, field, value):
    before = snapshot(app)
    kw = {"counter": 1, field: value}
    body = _signed(door, kw["counter"], kw.get("trust_serial", 0))
    refused(door.post(body), 400, "bad_payload")
    assert snapshot(app) == before


def test_sync_integers_at_the_top_of_their_range_are_accepted(app, door):
    r = door.post(_signed(door, 2**32 - 1, 2**32 - 1))
    assert r.status_code == 200, r.get_json()
    refused(door.post(_signed(door, 2**32 - 1)), 409, "replay")


# --- NUL characters -----------------------------------------------------------------------------

@pytest.mark.parametrize("firmware", ["0.1\x00", NUL, "a\x01b", "x" * 33])
def test_sync_firmware_text_refused(app, door, firmware):
    before = snapshot(app)
    refused(door.post(_signed(door, 1, firmware=firmware)), 400, "bad_payload")
    assert snapshot(app) == before


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "/areas/1", {"name": "Area\x00One"}),
    ("PATCH", "/devices/door-1", {"firmware": "1.0\x00"}),
    ("POST", "/devices", {"id": "door\x002", "area": 1, "public_key": "00" * 32}),
    ("POST", "/devices", {"id": "door-2", "area": 1, "public_key": "00" * 32,
                          "firmware": "\x00"}),
    ("POST", "/revocations", {"cti": "00" * 16, "reason": "lost\x00"}),
    ("POST", "/keys/1/revoke", {"reason": "\x00"}),
    ("POST", "/areas/1/certificates", {"category": 1, "iss": "GB\x00"}),
])
def test_admin_text_with_nul_is_bad_field(app, client, auth, door, method, path, body):
    before = snapshot(app)
    r = client.open("/api/v1/admin" + path, method=method, json=body, headers=auth)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"] == "bad_field"
    assert snapshot(app) == before
    last = audit_entries(app)[-1]
    assert last["status"] == 400  # the audit entry of the refused request was written


@pytest.mark.parametrize("method,path", [
    ("GET", "/devices/door{}1"), ("PATCH", "/devices/door{}1"),
    ("POST", "/devices/door{}1/retire"),
])
def test_device_id_with_nul_in_path_is_404(app, client, auth, door, method, path):
    before = snapshot(app)
    r = client.open("/api/v1/admin" + path.format("%00"), method=method, headers=auth,
                    json={"firmware": "x"})
    assert r.status_code == 404  # no route takes it: it never reaches a query
    assert snapshot(app) == before


def test_audit_of_a_request_with_nul(app, client, auth):
    """The audit entry of a refused request with a NUL is written, NUL percent-encoded."""
    from gerbang_server.auth import audit_target

    for path in ("/devices?state=%00", "/revocations?live=%00"):
        assert client.get("/api/v1/admin" + path, headers=auth).status_code == 400
    last = audit_entries(app)[-1]
    assert last["status"] == 400 and last["target"] == "GET /api/v1/admin/revocations?live=%00"
    assert audit_target("GET /a\x00b\n" + "x" * 300) == "GET /a%00b%0A" + "x" * 187


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_device_with_nul_is_bad_query(client, auth, door, fmt):
    r = client.get(f"/api/v1/admin/scans?format={fmt}&device=door%001", headers=auth)
    assert r.status_code == 400 and r.get_json()["error"] == "bad_query"


def test_export_with_nul_anywhere_in_the_query(client, auth, door):
    for q in ("decision=%00", "format=%00", "since=1%00", "device=%00"):
        r = client.get("/api/v1/admin/scans?" + q, headers=auth)
        assert r.status_code == 400, q
    r = client.get("/api/v1/admin/devices?state=%00", headers=auth)
    assert r.status_code == 400


# --- deep JSON and oversized bodies --------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("PATCH", "/areas/1"), ("POST", "/devices"), ("PATCH", "/devices/door-1"),
    ("POST", "/revocations"), ("POST", "/areas/1/certificates"), ("POST", "/keys/1/revoke"),
])
@pytest.mark.parametrize("body", [DEEP, '{"policy":' + "[" * 5000 + "]" * 5000 + "}",
                                  '{"a":' * 20000 + "1" + "}" * 20000])
def test_deep_json_is_bad_json(app, client, auth, door, method, path, body):
    before = snapshot(app)
    r = client.open("/api/v1/admin" + path, method=method, data=body, headers=auth,
                    content_type="application/json")
    assert r.status_code == 400, r.data[:200]
    assert r.get_json()["error"] == "bad_json"
    assert snapshot(app) == before


def test_oversized_admin_body_is_413(app, client, auth):
    before = snapshot(app)
    big = '{"name": "' + "x" * (2 * 1024 * 1024) + '"}'
    r = client.patch("/api/v1/admin/areas/1", data=big, headers=auth,
                     content_type="application/json")
    assert r.status_code == 413
    assert r.get_json()["error"] == "too_large"
    assert snapshot(app) == before


# --- headers -------------------------------------------------------------------------------------

def test_security_headers_on_every_kind_of_answer(client, auth, door):
    answers = {
        "/api/v1/health": client.get("/api/v1/health"),
        "/api/v1/areas/1/trustlist": client.get("/api/v1/areas/1/trustlist"),
        "/api/v1/sync": client.post(URL, data=b"x", content_type=COSE),
        "/api/v1/nowhere": client.get("/api/v1/nowhere"),
        "/api/v1/admin/areas": client.get("/api/v1/admin/areas", headers=auth),
        "/api/v1/admin/areas/": client.get("/api/v1/admin/areas"),  # 401
        "/api/v1/admin/nowhere": client.get("/api/v1/admin/nowhere", headers=auth),
        "/api/v1/admin/scans": client.get("/api/v1/admin/scans?format=csv", headers=auth),
    }
    for path, r in answers.items():
        r.get_data()
        r.close()
        assert_headers(r, path)
    assert answers["/api/v1/admin/areas/"].status_code == 401
    assert door.sync(1, records(1, 3)).status_code == 200


# --- the sweep: every route, hostile values everywhere ----------------------------------------

HOSTILE_INTS = [HUGE, str(INT32_OVER), str(2**63), str(2**64), "-1", "0", "1e9", "０"]
HOSTILE_STRS = ["%00", "door%001", "x" * 300, "..", "%2e%2e", "%C3%A9", "%FF", "%0a"]
HOSTILE_QUERIES = [f"after={INT32_OVER}", f"after={2**63}", "after=%00", f"limit={HUGE}",
                   f"area={INT32_OVER}", "device=%00", f"since={2**63}", "until=-1",
                   "decision=%00", "format=%00", "state=%00", "live=%00",
                   "&".join(f"k{i}=v" for i in range(500))]
HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("application/json", DEEP.encode()),
    ("application/json", b'{"name": "a\\u0000b", "firmware": "\\u0000", "id": "\\u0000",'
                         b' "reason": "\\u0000", "iss": "\\u0000", "cti": "\\u0000"}'),
    ("application/json", json.dumps({"area": BIG, "category": BIG, "doses": BIG,
                                     "valid_for": BIG, "nbf": BIG, "config": {"relay_ms": BIG},
                                     "policy": {"min_doses": BIG}}).encode()),
    ("application/json", b'{"areas": [' + b",".join([str(2**70).encode()] * 20) + b"]}"),
    ("application/json", b"\xff\xfe{"),
    ("application/json", b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
    ("application/cose", b"\xd2\x84" + b"\x9f" * 5000),
    ("application/cose", b"\x00" * (2 * 1024 * 1024)),
]


_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def _fill(rule: str, value_for: Any) -> str:
    """The rule's path with every variable part replaced by value_for(converter name)."""
    return _VARIABLE.sub(lambda m: value_for(m.group(1) or "default"), rule)


def _routes(app: Any) -> list[tuple[Any, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    assert len(out) > 20
    return out


def test_sweep_every_route_with_hostile_values(app, client, auth, door):
    """Every route with every variable part hostile, every hostile query and body: never a
    5xx, the database unchanged, the security headers present."""
    before = snapshot(app)
    tried = 0
    for rule, method in _routes(app):
        has_vars = bool(rule.arguments)
        paths = []
        if has_vars:
            for ints, strs in zip(HOSTILE_INTS, HOSTILE_STRS, strict=True):
                paths.append(_fill(rule.rule, lambda c, i=ints, s=strs: i if c in ("id", "int")
                                   else s))
        else:
            paths.append(rule.rule)
        for path in paths:
            for query in HOSTILE_QUERIES if method == "GET" else [""]:
                url = path + ("?" + query if query else "")
                bodies = HOSTILE_BODIES if method in ("POST", "PATCH", "PUT") else [(None, b"")]
                for ctype, body in bodies:
                    headers = dict(auth)
                    if ctype:
                        headers["Content-Type"] = ctype
                    r = client.open(url, method=method, data=body, headers=headers)
                    tried += 1
                    data = r.get_data()
                    r.close()
                    assert r.status_code < 500, (method, url, ctype, body[:40], data[:300])
                    assert_headers(r, path)
    assert tried > 200
    assert snapshot(app) == before
    assert not any("\x00" in (e["target"] or "") for e in audit_entries(app))


def test_sweep_covers_the_named_cases(app):
    """The sweep reaches the routes the issue names (a new route joins it by itself)."""
    rules = {r.rule for r in app.url_map.iter_rules()}
    for needed in ("/api/v1/areas/<id:area_id>/trustlist", "/api/v1/admin/audit",
                   "/api/v1/admin/devices/<device:device_id>", "/api/v1/sync"):
        assert needed in rules, sorted(rules)
    assert all(re.search(r"<int:", r) is None for r in rules), "ids use the id converter"


def test_id_rule_regex_is_exactly_the_range():
    from gerbang_server.inputs import INT32_MAX, digits_at_most

    for n in [*range(0, 120), 1000, 2020, 9999]:
        rx = re.compile(digits_at_most(n))
        assert [i for i in range(12000) if rx.fullmatch(str(i))] == list(range(n + 1)), n
    rx = re.compile(digits_at_most(INT32_MAX))
    for v in (0, 999_999_999, 1_000_000_000, 2_147_483_639, INT32_MAX - 1, INT32_MAX,
              INT32_MAX + 1, 2_147_483_650, 9_999_999_999, 21_474_836_470):
        assert bool(rx.fullmatch(str(v))) == (v <= INT32_MAX), v
