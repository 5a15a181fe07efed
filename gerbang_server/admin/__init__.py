"""Admin API, ``/api/v1/admin/...``: token auth (gerbang_server/auth.py), every request audited.

One sub-blueprint per resource; :func:`blueprint` builds the parent that carries the token
check and the audit hook and nests them (the app factory registers it). docs/SERVER.md is
the reference.
"""

from __future__ import annotations

from flask import Blueprint, Response

from .. import auth
from . import areas, audit, certificates, devices, fleet, keys, revocations, scans

RESOURCES = (areas, devices, keys, certificates, revocations, scans, fleet, audit)


def _audit(resp: Response) -> Response:
    auth.write_audit(resp.status_code)
    return resp


def blueprint() -> Blueprint:
    """A new parent blueprint (one per app) with every resource's blueprint nested in it."""
    bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
    bp.before_request(auth.authenticate)
    bp.after_request(_audit)
    for resource in RESOURCES:
        bp.register_blueprint(resource.bp)
    return bp
