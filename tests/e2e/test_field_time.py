"""Time in the field, end to end (real server on gunicorn with a movable clock, virtual units at
the ESP32's heap):

- a unit offline through a whole key period: its clock runs past the area's key rotation and
  past its old certificates' expiry while it cannot sync; it keeps deciding by its list and
  policy, then one sync brings the new list and every backlog record, and the new key's
  certificates pass;
- clock after power loss: hours without power (RTC memory and RTC time lost), the boot has
  only the time floor on flash; the area's clock policy decides, the records carry the clock
  quality, the first sync restores trusted time;
- a server time that jumps backwards is refused.
"""

from __future__ import annotations

import pytest

from gerbang_dev.demo import Lab, Unit
from gerbang_dev.faultproxy import FaultProxy

from .conftest import RUN_HEAP

DAY = 86400
HOUR = 3600
# gerbang_protocol.errors.Reason
OK, EXPIRED, CLOCK, NO_TRUST, PREFIX = 0, 11, 16, 17, 1
SYNCED, FLOOR = 0, 1  # clock quality
FLAG_CLOCK_ALLOWED = 1


@pytest.fixture
def lab(tmp_path):
    with Lab(str(tmp_path), heap=RUN_HEAP, sync_interval_s=3600) as lab:
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        yield lab


def _decisions(unit: Unit) -> list[dict]:
    return [e for e in unit.ev.items if e["ev"] == "decision"]


def _by_seq(lab: Lab, unit: Unit) -> dict[int, dict]:
    return {r["seq"]: r for r in lab.export(unit.id)}


def test_offline_through_a_key_period(lab):
    area = 13
    old = lab.issue(area)  # the area's first key; valid 30 days (the server's default)
    old_b = lab.issue(area)
    unit = lab.add_unit("gb-13-0001", area)
    assert unit.scan(old["qr"])["allow"]
    s = unit.sync_now()
    assert s["ok"] and s["acked"] == 1, s
    serial = [e["serial"] for e in unit.ev.items if e["ev"] == "trust"][-1]
    keys_before = {k["kid"] for k in lab.api("GET", f"/admin/areas/{area}/keys")["keys"]}

    # offline (no sync: the server is out of reach), 10 days: past max_unsynced (7 days), the
    # list (14 days) still valid: the policy (clock_policy 1) allows and flags
    unit.advance_clock(10 * DAY)
    d = unit.scan(old_b["qr"])
    assert d["allow"] and d["clock"] == FLOOR and d["flags"] & FLAG_CLOCK_ALLOWED, d
    # 32 days: past the key's period (30 days) and the old certificates' expiry; the list
    # has expired too: no trust, every code is denied, still decided and logged
    unit.advance_clock(22 * DAY)
    offline = [unit.scan(c["qr"]) for c in (old, old_b)]
    assert [(d["allow"], d["reason"]) for d in offline] == [(False, NO_TRUST)] * 2, offline
    assert not unit.scan("GB1:garbage")["allow"]  # malformed: denied before the list is asked

    # meanwhile the server lived through the same days: its own job rotated the key
    lab.advance_server(32 * DAY)
    lab.flask("run-jobs")
    keys_after = {k["kid"] for k in lab.api("GET", f"/admin/areas/{area}/keys")["keys"]}
    assert keys_after - keys_before, "no new key after the rotation period"
    new = lab.issue(area)
    assert new["kid"] not in keys_before

    # one sync: the new list and every backlog record
    s = unit.sync_now()
    assert s["ok"] and s["requests"] == 1 and s["sent"] == 4 and s["acked"] == 5, s
    assert s["bundle"] > 0, s
    trust = [e for e in unit.ev.items if e["ev"] == "trust"][-1]
    assert trust["serial"] > serial and not trust["error"], trust
    recs = _by_seq(lab, unit)
    assert sorted(recs) == [1, 2, 3, 4, 5]
    # the server holds what the unit decided, with the clock quality it decided under
    assert {q: (r["decision"], r["reason"], r["clock"]) for q, r in recs.items()} == \
        {e["seq"]: (int(e["allow"]), e["reason"], e["clock"]) for e in _decisions(unit)}
    assert [recs[q]["clock"] for q in (1, 2, 3, 4, 5)] == [SYNCED] + [FLOOR] * 4
    assert recs[2]["flags"] & FLAG_CLOCK_ALLOWED
    # the new key's certificates pass, the old ones have expired; the clock is trusted again
    d = unit.scan(new["qr"])
    assert d["allow"] and d["clock"] == SYNCED, d
    d = unit.scan(old["qr"])
    assert not d["allow"] and d["reason"] == EXPIRED, d


def test_power_loss_floor_only_then_the_first_sync_restores_time(lab):
    strict, lenient = 14, 15
    lab.api("PATCH", f"/admin/areas/{strict}", {"policy": {"clock_policy": 0}})
    lab.api("PATCH", f"/admin/areas/{lenient}", {"policy": {"clock_policy": 1}})
    units = {}
    certs = {}
    for area in (strict, lenient):
        certs[area] = [lab.issue(area) for _ in range(2)]
        u = units[area] = lab.add_unit(f"gb-{area}-0001", area)
        assert u.scan(certs[area][0]["qr"])["allow"]
        s = u.sync_now()  # trusted time; the floor on flash is this sync's time
        assert s["ok"], s
    # hours without power: RTC memory and time are gone (the RTC restarts at 2000-01-01)
    lab.advance_server(6 * HOUR)
    got = {}
    for area, u in units.items():
        u.power_cycle()
        got[area] = u.scan(certs[area][1]["qr"])
    assert not got[strict]["allow"] and got[strict]["reason"] == CLOCK, got  # the policy: deny
    assert got[strict]["clock"] == FLOOR
    assert got[lenient]["allow"] and got[lenient]["clock"] == FLOOR, got  # allow, flagged
    assert got[lenient]["flags"] & FLAG_CLOCK_ALLOWED
    for area, u in units.items():
        s = u.sync_now()
        assert s["ok"] and s["acked"] == 2, s
        r = _by_seq(lab, u)[2]
        assert r["clock"] == FLOOR  # the record says how good its time was
        # its time came from the floor: before the server's (6 h later) time
        assert r["time"] < lab.api("GET", "/admin/fleet")["now"] - 5 * HOUR
        # the first sync restored trusted time: synced again, at the server's time
        d = u.scan(certs[area][0]["qr"])
        assert d["allow"] and d["clock"] == SYNCED, d
        s = u.sync_now()
        r = _by_seq(lab, u)[3]
        assert r["clock"] == SYNCED and abs(r["time"] - lab.api("GET", "/admin/fleet")["now"]) \
            < 120, r


def test_server_time_jumping_backwards_is_refused(lab):
    area = 16
    cert = lab.issue(area)
    with FaultProxy(lab.url, signer=lab.signer_key()) as proxy:
        unit = lab.add_unit("gb-16-0001", area, server=proxy.url)
        try:
            assert unit.scan(cert["qr"])["allow"]
            assert unit.sync_now()["ok"]
            proxy.time_back = 2 * DAY  # the server's clock jumped back two days
            proxy.mode = "time_back"
            unit.sync_now()
            proxy.mode = "pass"
            unit.scan(cert["qr"])  # seq 2, decided after the answer with the earlier time
            assert unit.sync_now()["ok"]
            recs = _by_seq(lab, unit)
            # the record after the jump is not dated before the records the unit made earlier
            assert recs[2]["time"] >= recs[1]["time"], recs
        finally:
            unit.stop()


def test_power_loss_the_units_own_hook_still_syncs(tmp_path):
    with Lab(str(tmp_path), heap=RUN_HEAP, sync_interval_s=6) as lab:
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        cert = lab.issue(17)
        unit = lab.add_unit("gb-17-0001", 17)
        assert unit.wait("sync", 40)["ok"]  # the hook works while RTC memory holds the record
        unit.wait("start", 30)
        unit.power_cycle()
        d = unit.scan(cert["qr"])
        assert d["clock"] == FLOOR
        s = unit.wait("sync", 40)  # raises when no sync boot comes
        assert s["ok"] and s["acked"] == d["seq"], s  # the scan after the power loss is synced
