"""Admin: fleet health (``/fleet``; the report is gerbang_server/fleet.py)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..config import now
from ..fleet import fleet_health

bp = Blueprint("fleet", __name__)


@bp.get("/fleet")
def get_fleet() -> Response:
    return jsonify(fleet_health(now()))
