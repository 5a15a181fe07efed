"""The server keeps its lists and keys current by itself (gerbang_server/jobs.py): no cron, the
in-process timer of two server processes sharing one database (two apps; the job lease lets
one of them do a round's work), 100 simulated days on the injectable clock; and the lapse
warnings (log, fleet JSON) when the job stops."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from gerbang_server import db

from .conftest import DAY, import_signer, make_test_app


def _wait_pass(timers, t: int) -> None:
    """Some timer has finished a pass that started at simulated time t or later (a round
    skipped because the other process held the lease does not count)."""
    deadline = time.monotonic() + 60
    while not any(x.last is not None and x.last["now"] >= t for x in timers):
        assert time.monotonic() < deadline, "the job timers stopped running"
        assert all(x.thread.is_alive() for x in timers)
        time.sleep(0.002)


def _lists(app) -> dict[int, dict]:
    with app.app_context(), db.begin() as conn:
        return {a["id"]: db.latest_trustlist(conn, a["id"]) for a in db.list_areas(conn)}


def test_100_days_without_cron_no_list_lapses(database, clock, pki):
    # two server processes' timers on one database, short real interval, simulated days
    apps = [make_test_app(database, clock, GERBANG_JOBS_IN_PROCESS=True,
                          GERBANG_JOBS_INTERVAL=0.01) for _ in range(2)]
    timers = [a.extensions["gerbang_jobs"] for a in apps]
    try:
        import_signer(apps[0], pki)
        _wait_pass(timers, clock.t)
        kids: dict[int, set[bytes]] = {}
        start = clock.t
        while clock.t < start + 100 * DAY:
            clock.advance(2 * DAY)  # a pass every 2 simulated days (cron advice: hourly)
            _wait_pass(timers, clock.t)
            for area, tl in _lists(apps[0]).items():
                assert tl is not None, area
                # the door's view: a list valid now with days to spare
                assert tl["issued"] <= clock.t < tl["expires"], (area, tl["expires"] - clock.t)
                assert tl["expires"] - clock.t > 6 * DAY, (area, tl["expires"] - clock.t)
            with apps[1].app_context():
                from gerbang_server.fleet import fleet_health
                from gerbang_server.keys import current_key

                assert fleet_health(clock.t)["lapse_warnings"] == []
                with db.begin() as conn:
                    for area in range(1, 19):
                        k = current_key(conn, area, clock.t)
                        assert k is not None, area
                        kids.setdefault(area, set()).add(k["kid"])
        # the keys rotated on schedule (30-day periods: 4 keys in 100 days), in every area
        assert all(len(v) == 4 for v in kids.values()), {a: len(v) for a, v in kids.items()}
        assert sum(t.passes for t in timers) >= 50
        with apps[0].app_context(), db.begin() as conn:
            serials = conn.execute(select(db.trustlists.c.area_id, db.trustlists.c.serial)).all()
        # one list per serial per area (the lease and the row locks: no duplicate signing)
        assert len(serials) == len(set(serials))
    finally:
        for t in timers:
            t.stop()
        for a in apps:
            a.extensions["gerbang_engine"].dispose()
    assert not any(t.thread.is_alive() for t in timers)  # this test's timers (others may run)


def test_lease_one_holder_at_a_time(database, clock):
    from gerbang_server.jobs import job_lease

    apps = [make_test_app(database, clock) for _ in range(2)]
    try:
        with apps[0].app_context(), job_lease() as first:
            assert first
            with apps[1].app_context(), job_lease() as second:
                assert not second  # the other process skips this round
        with apps[1].app_context(), job_lease() as again:
            assert again  # released
    finally:
        for a in apps:
            a.extensions["gerbang_engine"].dispose()


def test_testing_app_has_no_timer_unless_asked(database, clock):
    app = make_test_app(database, clock)
    try:
        assert "gerbang_jobs" not in app.extensions
    finally:
        app.extensions["gerbang_engine"].dispose()


def test_stopped_job_warns_days_before_the_lists_lapse(app, client, auth, clock, area_ready,
                                                        caplog):
    from gerbang_server.jobs import JobTimer

    timer = JobTimer(app, 3600)  # its rounds by hand: tick() is what the thread runs
    report = timer.tick()
    assert report is not None and report["warnings"] == []
    assert client.get("/api/v1/admin/fleet", headers=auth).get_json()["lapse_warnings"] == []
    # the job stops (the timer is gone, no cron): eight days on, area 1's list has < 6 days
    clock.advance(8 * DAY + 3600)
    fleet = client.get("/api/v1/admin/fleet", headers=auth).get_json()
    warn = [w for w in fleet["lapse_warnings"] if w["kind"] == "trustlist" and w["area"] == 1]
    assert warn and 0 < warn[0]["left"] < 6 * DAY and "lapses in" in warn[0]["message"]
    assert not fleet["ok"]
    timer.tick()  # the job back: it re-signs, nothing left to warn about
    assert client.get("/api/v1/admin/fleet", headers=auth).get_json()["lapse_warnings"] == []
    # the signer's key certificate (pki: a year) nearing its end: every pass warns, a month
    # ahead (only the offline root can make a new one)
    clock.advance(340 * DAY)
    with caplog.at_level(logging.WARNING, logger="gerbang.jobs"):
        timer.tick()
    assert any("lapse warning: the signer's key certificate ends in" in r.getMessage()
               for r in caplog.records)
    fleet = client.get("/api/v1/admin/fleet", headers=auth).get_json()
    assert [w["kind"] for w in fleet["lapse_warnings"]] == ["signer"]
    assert "certify a new signer" in fleet["lapse_warnings"][0]["message"]
