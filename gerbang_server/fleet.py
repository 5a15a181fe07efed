"""Fleet health (served at ``GET /api/v1/admin/fleet``, admin/fleet.py) — what needs attention now.

- devices not synced for ``GERBANG_FLEET_STALE_AFTER`` (or never), with their last health;
- areas whose trust list is missing or expires within ``GERBANG_FLEET_WARN_BEFORE``;
- areas with no active issuer key; the signer's key certificate nearing its end;
- ``lapse_warnings``: every list or key that would lapse soon, with a message for people
  (gerbang_server/jobs.py ``lapse_warnings``: the CLI and the dashboard show these).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from . import db, jobs, keys


def fleet_health(t: int) -> dict[str, Any]:
    stale_after = current_app.config["GERBANG_FLEET_STALE_AFTER"]
    warn = current_app.config["GERBANG_FLEET_WARN_BEFORE"]
    with db.begin() as conn:
        devices = db.list_devices(conn, state="active")
        stale = []
        for d in devices:
            last = d["last_sync_at"]
            if last is None or t - last >= stale_after:
                stale.append({"id": d["id"], "area": d["area_id"], "last_sync_at": last,
                              "age": None if last is None else t - last,
                              "firmware": d["firmware"], "health": d["health"]})
        lists, no_key = [], []
        for a in db.list_areas(conn):
            tl = db.latest_trustlist(conn, a["id"])
            if tl is None or tl["expires"] - t < warn:
                lists.append({"area": a["id"], "serial": tl and tl["serial"],
                              "expires": tl and tl["expires"],
                              "remaining": None if tl is None else tl["expires"] - t})
            if keys.current_key(conn, a["id"], t) is None:
                no_key.append(a["id"])
        s = db.current_signer(conn, t)
        signer = None if s is None else {
            "id": s["id"], "kid": s["kid"].hex(), "not_after": s["not_after"],
            "remaining": s["not_after"] - t, "warn": s["not_after"] - t < 4 * warn}
        lapse = jobs.lapse_warnings(conn, t)
    ok = not stale and not lists and not no_key and signer is not None and not signer["warn"] \
        and not lapse
    return {"now": t, "ok": ok,
            "devices": {"active": len(devices), "stale": stale},
            "trustlists_expiring": lists, "areas_without_key": no_key, "signer": signer,
            "lapse_warnings": lapse}

