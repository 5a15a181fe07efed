"""Rows a request names, or 404: the area and the device lookups every view shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from . import db
from .errors import not_found


def require_area(conn: Connection, area_id: int) -> dict[str, Any]:
    area = db.get_area(conn, area_id)
    if area is None:
        raise not_found(f"no area {area_id}", "unknown_area")
    return area


def require_device(conn: Connection, device_id: str) -> dict[str, Any]:
    d = db.get_device(conn, device_id)
    if d is None:
        raise not_found(f"no device {device_id}", "unknown_device")
    return d
