"""Admin: door units (``/devices``): register, list, read, move/configure, retire."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from gerbang_protocol import device_config, kid_of
from gerbang_protocol.device_id import DEVICE_ID

from .. import auth, db
from ..config import now
from ..errors import bad_request, conflict
from ..inputs import decode_key, get_int, get_str, json_body, query_int, query_str
from ..lookup import require_area, require_device

bp = Blueprint("devices", __name__)



def device_json(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "area": d["area_id"], "public_key": d["public_key"].hex(),
            "kid": d["kid"].hex(), "state": d["state"], "firmware": d["firmware"],
            "registered_at": d["registered_at"], "retired_at": d["retired_at"],
            "last_sync_at": d["last_sync_at"], "health": d["health"],
            "acked_seq": d["acked_seq"], "max_seq": d["max_seq"],
            "gaps": d["gaps"] or [], "trust_serial": d["trust_serial"],
            "config": d["config"]}


@bp.get("/devices")
def list_devices() -> Response:
    area = query_int("area", 1, 10**6)
    state = query_str("state", ("active", "retired"))
    with db.begin() as conn:
        rows = db.list_devices(conn, area_id=area, state=state)
    return jsonify({"devices": [device_json(d) for d in rows]})


@bp.post("/devices")
def register_device() -> tuple[Response, int]:
    data = json_body()
    device_id = get_str(data, "id", 32, pattern=DEVICE_ID)
    area_id = get_int(data, "area", 1, 10**6)
    if "public_key" not in data:
        raise bad_request("missing field 'public_key'", "missing_field")
    pub = decode_key(data["public_key"])
    firmware = get_str(data, "firmware", 32, default=None)
    t = now()
    with db.begin() as conn:
        require_area(conn, area_id)
        if db.get_device(conn, device_id) is not None:
            raise conflict(f"device {device_id} already exists", "device_exists")
        db.insert_device(conn, device_id, area_id, pub, kid_of(pub), t, firmware)
        auth.note(device=device_id, area=area_id, kid=kid_of(pub).hex())
        out = device_json(db.get_device(conn, device_id))
    return jsonify(out), 201


@bp.get("/devices/<device:device_id>")
def get_device(device_id: str) -> Response:
    with db.begin() as conn:
        return jsonify(device_json(require_device(conn, device_id)))


@bp.patch("/devices/<device:device_id>")
def patch_device(device_id: str) -> Response:
    data = json_body()
    unknown = set(data) - {"area", "config", "firmware"}
    if unknown:
        raise bad_request(f"unknown fields: {sorted(unknown)}", "unknown_field")
    with db.begin() as conn:
        d = require_device(conn, device_id)
        if d["state"] != "active":
            raise conflict(f"device {device_id} is retired", "device_retired")
        values: dict[str, Any] = {}
        if "area" in data:
            values["area_id"] = get_int(data, "area", 1, 10**6)
            require_area(conn, values["area_id"])
            if values["area_id"] != d["area_id"]:
                values["trust_serial"] = 0  # a new area's list must be sent
        if "config" in data:
            c = data["config"]
            if c is not None and not isinstance(c, dict):
                raise bad_request("'config' must be an object or null", "bad_field")
            if c:  # exactly what the door applies (gerbang_protocol.device_config)
                try:
                    c = device_config.check(c)
                except device_config.ConfigError as e:
                    raise bad_request(str(e), "bad_config") from None
            values["config"] = c or None
        if "firmware" in data:
            values["firmware"] = get_str(data, "firmware", 32)
        if values:
            db.update_device(conn, device_id, **values)
        auth.note(device=device_id, **{k: v for k, v in values.items()})
        return jsonify(device_json(db.get_device(conn, device_id)))


@bp.post("/devices/<device:device_id>/retire")
def retire_device(device_id: str) -> Response:
    with db.begin() as conn:
        d = require_device(conn, device_id)
        if d["state"] == "retired":
            raise conflict(f"device {device_id} is already retired", "device_retired")
        db.update_device(conn, device_id, state="retired", retired_at=now())
        auth.note(device=device_id)
        return jsonify(device_json(db.get_device(conn, device_id)))
