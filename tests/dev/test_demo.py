"""`make demo`'s day (gerbang_dev/demo.py Day: real server on gunicorn, virtual doors at the
ESP32's heap), checked against the server's database: the summary's figures per area are what
the scan_records and devices tables hold, every decision was the expected one, and the demo's
own check catches a wrong allow."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from gerbang_dev.demo import AREAS, Day, Lab
from gerbang_protocol.reason_text import reason_name


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    lab = Lab(str(tmp_path_factory.mktemp("demo")))
    lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
    with lab:
        d = Day(lab, say=lambda _text: None)
        d.run()
        yield d


def _db(day: Day) -> dict[int, dict]:
    """Per area from the database file itself (not the API the demo reads)."""
    out: dict[int, dict] = {}
    with sqlite3.connect(day.lab.db) as c:
        for area, decision, reason, n in c.execute(
                "SELECT area_id, decision, reason, COUNT(*) FROM scan_records "
                "GROUP BY area_id, decision, reason"):
            f = out.setdefault(area, {"allowed": 0, "denied": Counter(), "records": 0})
            f["records"] += n
            if decision == 1:
                f["allowed"] += n
            else:
                f["denied"][reason_name(reason)] += n
        for area, serial in c.execute("SELECT area_id, trust_serial FROM devices"):
            out[area].setdefault("serials", set()).add(serial)
        for area, serial in c.execute(
                "SELECT area_id, MAX(serial) FROM trustlists GROUP BY area_id"):
            if area in out:
                out[area]["newest"] = serial
    return out


def test_the_summary_is_the_servers_database(day):
    figures = day.area_figures()
    db = _db(day)
    assert sorted(figures) == sorted(AREAS) == sorted(db)
    for area, f in figures.items():
        d = db[area]
        assert f["synced"] == d["records"] == f["scans"], area  # every scan home, once
        assert f["allowed"] == d["allowed"] and f["denied"] == d["denied"], area
        assert f["serials"] == d["serials"] == {d["newest"]}, area  # doors hold the newest
        assert len(f["doors"]) == AREAS[area]
    text = "\n".join(day.summary())
    for d in db.values():
        assert f"scans {d['records']}, records synced to the server {d['records']}: " \
               f"{d['allowed']} allowed, {sum(d['denied'].values())} denied" in text
        for name, n in d["denied"].items():
            assert f"{n:3d} x {name:<13}" in text
    assert "All 45 decisions were as expected." in text
    assert "red light, two beeps" in text and "EXPIRED, REVOKED" in text


def test_every_decision_was_expected_and_the_news_reached_the_doors(day):
    assert day.failures() == []
    got = {(s.unit.id, s.when, s.code): s.got for s in day.scans}
    # the revocation: allowed until the door synced, REVOKED after
    assert got[("gb-01-0001", "12:00", "guest")] == "OK"
    assert got[("gb-01-0001", "13:00", "guest")] == "REVOKED"
    # the rotation: the new key unknown until the sync, allowed after; the old key still good
    assert got[("gb-05-0001", "12:00", "new_key")] == "UNKNOWN_KID"
    assert got[("gb-05-0001", "13:00", "new_key")] == "OK"
    assert got[("gb-05-0001", "13:00", "visitor")] == "OK"
    assert got[("gb-12-0001", "08:00", "other_area")] == "WRONG_AREA"


def test_the_demo_fails_on_a_wrong_allow(day):
    s = next(s for s in day.scans if s.got == "OK")
    expect = s.expect
    try:
        s.expect = "REVOKED"  # as if the door had allowed a revoked pass
        bad = day.failures()
        text = "\n".join(day.summary())
    finally:
        s.expect = expect
    assert len(bad) == 1 and "WRONG ALLOW" in bad[0]
    assert "1 of 45 decisions NOT as expected:" in text and "WRONG ALLOW" in text
