"""Admin: areas (``/areas``, ``/areas/<id>``): list, read, rename and set the door policy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import Connection

from .. import auth, db, keys, trustlists
from ..config import now
from ..errors import bad_request
from ..inputs import get_int, get_str, json_body
from ..lookup import require_area
from .resign import refresh_or_note

bp = Blueprint("areas", __name__)

POLICY_FIELDS = {"min_doses": (0, 15), "categories": (0, 0b111110), "clock_policy": (0, 1),
                 "max_unsynced": (0, 365 * 86400), "reuse_window": (0, 86400)}


def area_json(conn: Connection, area: dict[str, Any]) -> dict[str, Any]:
    return {"id": area["id"], "slug": area["slug"], "name": area["name"],
            "policy": {**db.DEFAULT_POLICY, **(area["policy"] or {})},
            "trustlist": trustlists.summary(db.latest_trustlist(conn, area["id"]))}


@bp.get("/areas")
def list_areas() -> Response:
    with db.begin() as conn:
        return jsonify({"areas": [area_json(conn, a) for a in db.list_areas(conn)]})


@bp.get("/areas/<id:area_id>")
def get_area(area_id: int) -> Response:
    t = now()
    with db.begin() as conn:
        area = require_area(conn, area_id)
        out = area_json(conn, area)
        out["keys"] = keys.all_keys_json(conn, area_id, t)
        out["devices"] = len(db.list_devices(conn, area_id=area_id))
    return jsonify(out)


@bp.patch("/areas/<id:area_id>")
def patch_area(area_id: int) -> Response:
    data = json_body()
    unknown = set(data) - {"name", "policy"}
    if unknown:
        raise bad_request(f"unknown fields: {sorted(unknown)}", "unknown_field")
    with db.begin() as conn:
        area = require_area(conn, area_id)
        values: dict[str, Any] = {}
        if "name" in data:
            values["name"] = get_str(data, "name", 200)
        if "policy" in data:
            p = data["policy"]
            if not isinstance(p, dict):
                raise bad_request("'policy' must be an object", "bad_field")
            bad = set(p) - set(POLICY_FIELDS)
            if bad:
                raise bad_request(f"unknown policy fields: {sorted(bad)}", "unknown_field")
            policy = {**db.DEFAULT_POLICY, **(area["policy"] or {})}
            for k, (lo, hi) in POLICY_FIELDS.items():
                if k in p:
                    policy[k] = get_int(p, k, lo, hi)
            values["policy"] = policy
        if values:
            db.set_area(conn, area_id, **values)
        auth.note(**{k: v for k, v in values.items()})
    tl = refresh_or_note(area_id) if "policy" in data else None
    with db.begin() as conn:
        out = area_json(conn, db.get_area(conn, area_id))
    out["trustlist"] = tl or out["trustlist"]
    return jsonify(out)
