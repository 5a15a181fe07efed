"""The dashboard in headless Chromium against the real server (gunicorn) filled by the
scripted day through the signed sync API (conftest.py, scripted_day.py). Every figure a page
shows is compared with a query of the raw tables written here, not with the dashboard's code.
"""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from gerbang_protocol.reason_text import reason_name, reason_text

from .conftest import log_in, screenshots_dir

WIB = timezone(timedelta(hours=7))


def q(day_server, sql: str, **params):
    with day_server["engine"].connect() as conn:
        return conn.execute(text(sql), params).all()


def wib(ts: int) -> str:
    return datetime.fromtimestamp(ts, WIB).strftime("%Y-%m-%d %H:%M:%S")


def day_iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, WIB).date().isoformat()


def key_count(day_server, area: int) -> int:
    return q(day_server, "SELECT count(*) FROM issuer_keys WHERE area_id = :a", a=area)[0][0]


def csrf_of(page) -> str:
    return page.get_attribute('input[name="csrf"]', "value")


# --- log-in ---------------------------------------------------------------------------------

def test_page_without_login_redirects_to_login(new_page, day_server):
    page = new_page()
    for path in ("/", "/areas/1", "/logs?area=1", "/keys", "/units/door-1a"):
        page.goto(path)
        assert page.url.startswith(day_server["base"] + "/login?next="), (path, page.url)
        assert page.locator("#login-submit").is_visible()
    r = page.request.get("/logs.csv", max_redirects=0)
    assert r.status == 302 and "/login" in r.headers["location"]


def test_wrong_password_is_refused_then_login_and_logout(new_page):
    page = new_page()
    page.goto("/login")
    page.fill("#username", "viewer")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    assert page.locator("#login-error").is_visible()
    assert "/login" in page.url
    log_in(page, "viewer")
    page.click("#logout")
    page.goto("/")
    assert "/login" in page.url


def test_headers_of_a_data_page(new_page):
    page = new_page()
    log_in(page, "admin")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    resp = page.goto("/areas/1")
    h = resp.headers
    csp = h["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp and "default-src 'none'" in csp  # no script at all
    assert h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "no-store"
    assert page.locator("script").count() == 0
    assert page.locator("svg.chart").count() == 1
    assert errors == []  # nothing blocked by the CSP, nothing missing


# --- overview -------------------------------------------------------------------------------

def test_overview_counts_equal_the_database(new_page, day_server):
    page = new_page()
    log_in(page, "admin")
    page.goto("/")
    today0 = day_server["day"].today0
    want = {a: [0, 0] for a in range(1, 19)}
    for area, decision, n in q(day_server, "SELECT area_id, decision, count(*) FROM scan_records "
                               "WHERE time >= :a AND time < :b GROUP BY area_id, decision",
                               a=today0, b=today0 + 86400):
        want[area][0 if decision == 1 else 1] += n
    assert page.locator("article.card").count() == 18
    now = int(time.time())
    devices = q(day_server, "SELECT id, area_id, last_sync_at FROM devices WHERE state='active'")
    for area in range(1, 19):
        card = page.locator(f'article.card[data-area="{area}"]')
        assert int(card.locator("[data-allow]").get_attribute("data-allow")) == want[area][0]
        assert int(card.locator("[data-deny]").get_attribute("data-deny")) == want[area][1]
        units = [d for d in devices if d.area_id == area]
        stale = sum(1 for d in units if d.last_sync_at is None or now - d.last_sync_at >= 86400)
        assert int(card.locator("[data-stale]").get_attribute("data-stale")) == stale
        assert int(card.locator("[data-fresh]").get_attribute("data-fresh")) == len(units) - stale
        serial = q(day_server, "SELECT max(serial) FROM trustlists WHERE area_id=:a", a=area)[0][0]
        assert int(card.locator("[data-serial]").get_attribute("data-serial")) == serial
    assert sum(want[1]) > 0 and want[2][0] > 0  # the scripted day did reach the server


def test_stale_unit_is_flagged(new_page):
    page = new_page()
    log_in(page, "viewer")
    page.goto("/")
    actions = page.locator("#actions")
    assert actions.locator('li[data-kind="stale"][data-unit="door-1c"]').count() == 1
    assert actions.locator('li[data-kind="never"][data-unit="door-3a"]').count() == 1
    assert actions.locator('li[data-kind="dropping"][data-unit="door-1b"]').count() == 1
    assert actions.locator('li[data-kind="stale"][data-unit="door-1a"]').count() == 0
    # the action list comes before the grid
    assert page.locator("main section").first.get_attribute("id") == "actions"
    page.goto("/areas/1")
    assert page.locator('#units tr[data-unit="door-1c"]').get_attribute("data-stale") == "1"
    assert page.locator('#units tr[data-unit="door-1a"]').get_attribute("data-stale") == "0"


# --- area page ------------------------------------------------------------------------------

def test_chart_totals_equal_the_database(new_page, day_server):
    page = new_page()
    log_in(page, "admin")
    y0 = day_server["day"].yesterday0
    page.goto(f"/areas/1?day={day_iso(y0)}")
    hours = [[0, 0] for _ in range(24)]
    for t, decision in q(day_server, "SELECT time, decision FROM scan_records WHERE area_id = 1 "
                         "AND time >= :a AND time < :b", a=y0, b=y0 + 86400):
        hours[(t - y0) // 3600][0 if decision == 1 else 1] += 1
    bars = page.locator("svg.chart g.bar")
    assert bars.count() == 24
    for i in range(24):
        bar = bars.nth(i)
        assert int(bar.get_attribute("data-hour")) == i
        assert [int(bar.get_attribute("data-allow")), int(bar.get_attribute("data-deny"))] \
            == hours[i], f"hour {i}"
    totals = page.locator("#day-totals")
    assert int(totals.locator("[data-allow]").get_attribute("data-allow")) == sum(
        h[0] for h in hours)
    assert int(totals.locator("[data-deny]").get_attribute("data-deny")) == sum(
        h[1] for h in hours)
    reasons = dict(q(day_server, "SELECT reason, count(*) FROM scan_records WHERE area_id = 1 "
                     "AND decision = 0 AND time >= :a AND time < :b GROUP BY reason",
                     a=y0, b=y0 + 86400))
    rows = page.locator("#reasons tbody tr")
    assert rows.count() == len(reasons) > 1
    for i in range(rows.count()):
        row = rows.nth(i)
        code = int(row.get_attribute("data-reason"))
        cells = row.locator("td")
        assert cells.nth(0).inner_text() == reason_name(code)
        assert cells.nth(1).inner_text() == reason_text(code, "id")
        assert int(cells.nth(2).inner_text()) == reasons[code]
    # the stored records count once although door-1a sent a batch twice
    assert q(day_server, "SELECT count(*) FROM scan_records WHERE device_id='door-1a'")[0][0] \
        == q(day_server, "SELECT coalesce(sum(n), 0) FROM scan_hourly "
             "WHERE device_id='door-1a'")[0][0]


# --- logs -----------------------------------------------------------------------------------

def _db_rows(day_server, area: int, since: int, until: int, decision: int, reason: int):
    return q(day_server, "SELECT s.id, s.time, s.area_id, a.name, s.device_id, s.seq, "
             "s.decision, s.reason FROM scan_records s JOIN areas a ON a.id = s.area_id "
             "WHERE s.area_id = :area AND s.time >= :a AND s.time < :b AND s.decision = :d "
             "AND s.reason = :r ORDER BY s.time DESC, s.id DESC",
             area=area, a=since, b=until, d=decision, r=reason)


def test_filters_and_csv_export_give_the_database_rows(new_page, day_server):
    page = new_page()
    log_in(page, "viewer")
    y0 = day_server["day"].yesterday0
    page.goto("/logs")
    page.select_option("#f-area", "1")
    page.fill("#f-from", day_iso(y0))
    page.fill("#f-to", day_iso(y0))
    page.select_option("#f-decision", "deny")
    page.select_option("#f-reason", "11")  # EXPIRED
    page.click("#filter-submit")
    page.wait_for_load_state()
    want = _db_rows(day_server, 1, y0, y0 + 86400, 0, 11)
    assert len(want) > 0
    assert int(page.locator("#log-total").get_attribute("data-total")) == len(want)
    shown = [int(x) for x in page.locator("#log tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")]
    assert shown == [r.id for r in want[:50]]
    with page.expect_download() as dl:
        page.click("#csv-link")
    with open(dl.value.path(), encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [(int(r["seq"]), r["unit"]) for r in got] == [(w.seq, w.device_id) for w in want]
    for r, w in zip(got, want, strict=True):
        assert r["time_wib"] == wib(w.time)
        assert r["area"] == w.name and int(r["area_id"]) == 1
        assert r["reason_name"] == "EXPIRED" and r["reason_text"] == reason_text(11, "id")


def test_logs_are_paginated(new_page, day_server):
    page = new_page()
    log_in(page, "admin")
    page.goto("/logs?area=1")
    total = q(day_server, "SELECT count(*) FROM scan_records WHERE area_id = 1")[0][0]
    assert int(page.locator("#log-total").get_attribute("data-total")) == total > 100
    ids = q(day_server, "SELECT id FROM scan_records WHERE area_id = 1 "
            "ORDER BY time DESC, id DESC LIMIT 50 OFFSET 50")
    page.click("#page-next")
    page.wait_for_load_state()
    shown = [int(x) for x in page.locator("#log tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")]
    assert shown == [r.id for r in ids]
    assert "page=2" in page.url and "area=1" in page.url


# --- keys: rotate, roles, CSRF --------------------------------------------------------------

def test_rotate_now_works_and_shows_in_the_audit_log(new_page, day_server):
    page = new_page()
    log_in(page, "admin")
    before = key_count(day_server, 4)
    page.goto("/keys")
    page.click("#rotate-4")
    assert page.url.endswith("/keys/rotate/4")  # a confirmation first
    assert key_count(day_server, 4) == before
    page.click("#confirm")
    page.wait_for_load_state()
    assert key_count(day_server, 4) == before + 1
    newest = q(day_server, "SELECT id FROM issuer_keys WHERE area_id = 4 ORDER BY id DESC")[0][0]
    assert page.locator(f'.keyarea[data-area="4"] tr[data-key="{newest}"]')\
        .get_attribute("data-state") == "current"
    first = page.locator("#audit tbody tr").first
    assert first.get_attribute("data-action") == "key.rotate"
    assert first.get_attribute("data-actor") == "admin"
    row = q(day_server, "SELECT actor, action, target, at FROM audit_log ORDER BY id DESC")[0]
    assert (row.actor, row.action, row.target) == ("admin", "key.rotate", "area 4")
    assert wib(row.at) in first.inner_text()  # who and when, in WIB


def test_viewer_cannot_rotate(new_page, day_server):
    page = new_page()
    log_in(page, "viewer")
    page.goto("/keys")
    assert page.locator("#rotate-1").count() == 0
    token = csrf_of(page)
    before = key_count(day_server, 1)
    assert page.goto("/keys/rotate/1").status == 403
    r = page.request.post("/keys/rotate/1", form={"csrf": token}, max_redirects=0)
    assert r.status == 403
    assert key_count(day_server, 1) == before


def test_form_without_csrf_token_is_refused(new_page, day_server):
    page = new_page()
    log_in(page, "admin")
    before = key_count(day_server, 5)
    page.goto("/keys/rotate/5")
    page.locator('form input[name="csrf"]').last.evaluate("e => e.remove()")
    page.click("#confirm")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("400")
    assert "CSRF" in page.locator("h1").inner_text()
    r = page.request.post("/keys/rotate/5", form={"csrf": "forged"}, max_redirects=0)
    assert r.status == 400
    assert key_count(day_server, 5) == before


# --- a PIC sees only their area ------------------------------------------------------------

def test_pic_sees_only_their_area(new_page, day_server):
    page = new_page()
    log_in(page, "pic2")
    page.goto("/")
    cards = page.locator("article.card")
    assert cards.count() == 1 and cards.first.get_attribute("data-area") == "2"
    assert page.locator('#actions li:not([data-area="2"])').count() == 0
    for path in ("/areas/1", "/logs?area=1", "/logs.csv?area=1", "/units/door-1a",
                 "/logs?unit=door-1a", "/keys/rotate/2", "/units/no-such-unit"):
        assert page.request.get(path, max_redirects=0).status == 403, path
    assert page.goto("/areas/2").status == 200
    page.goto("/logs")
    n2 = q(day_server, "SELECT count(*) FROM scan_records WHERE area_id = 2")[0][0]
    assert int(page.locator("#log-total").get_attribute("data-total")) == n2 > 0
    body = page.request.get("/logs.csv").text()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == n2 and {r["area_id"] for r in rows} == {"2"}
    assert page.locator('#f-area option[value="1"]').count() == 0
    page.goto("/keys")
    assert [e.get_attribute("data-area") for e in page.locator(".keyarea").all()] == ["2"]


# --- languages, layouts, screenshots --------------------------------------------------------

def test_language_switch_and_screenshots(new_page, day_server):
    out = screenshots_dir()
    y0 = day_server["day"].yesterday0
    page = new_page(1280, 900)
    log_in(page, "admin")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == "Ringkasan semua pintu"
    page.screenshot(path=os.path.join(out, "overview-id.png"), full_page=True)
    page.goto(f"/areas/1?day={day_iso(y0)}")
    page.screenshot(path=os.path.join(out, "area-id.png"), full_page=True)
    page.click("#lang-en")
    page.wait_for_load_state()
    assert page.url.endswith(f"/areas/1?day={day_iso(y0)}")  # back where the switch was
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#chart-h").inner_text() == "Scans per hour"
    assert page.locator("#reasons tbody tr td").nth(1).inner_text() in {
        reason_text(r, "en") for r in range(0, 32)}
    page.screenshot(path=os.path.join(out, "area-en.png"), full_page=True)
    page.goto("/")
    assert page.locator("h1").inner_text() == "Every door at a glance"
    page.screenshot(path=os.path.join(out, "overview-en.png"), full_page=True)
    page.goto("/keys")
    page.screenshot(path=os.path.join(out, "keys-en.png"), full_page=True)
    page.click("#lang-id")
    page.wait_for_load_state()
    page.goto(f"/logs?area=1&decision=deny&from={day_iso(y0)}&to={day_iso(y0)}")
    page.screenshot(path=os.path.join(out, "logs-id.png"), full_page=False)
    page.goto("/units/door-1b")
    page.screenshot(path=os.path.join(out, "unit-id.png"), full_page=True)
    phone = new_page(390, 844)
    log_in(phone, "pic2")
    phone.goto("/areas/2")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the page fits a phone; wide tables scroll inside their box
    phone.screenshot(path=os.path.join(out, "area-phone-id.png"), full_page=True)
    for name in ("overview-id", "overview-en", "area-id", "area-en", "area-phone-id", "keys-en",
                 "logs-id", "unit-id"):
        assert os.path.getsize(os.path.join(out, name + ".png")) > 10_000
