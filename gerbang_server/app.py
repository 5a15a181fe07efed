"""The Flask application factory (flaskr style): every blueprint is registered here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from . import admin, cli, config, dashboard, db, errors, sync, trustlists
from .inputs import CONVERTERS
from .jobs import start_in_process

ADMIN_PREFIX = "/api/v1/admin"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config (defaults < instance/config.py < environment < test_config),
    the database engine, blueprints, JSON errors, CLI commands; in dev (GERBANG_AUTO_MIGRATE,
    the default) the schema is upgraded and the 18 areas seeded at start."""
    app = Flask(__name__, instance_relative_config=True)
    config.load(app, test_config)
    app.extensions["gerbang_engine"] = db.make_engine(app.config["DATABASE_URL"],
                                                      app.config["GERBANG_DB_SCHEMA"])
    errors.register(app)
    app.url_map.converters.update(CONVERTERS)  # before any route is added
    app.after_request(_security_headers)

    app.register_blueprint(admin.blueprint())
    app.register_blueprint(trustlists.bp)
    app.register_blueprint(sync.bp)
    cli.register(app)
    dashboard.register(app)  # staff pages (docs/DASHBOARD.md)

    @app.get("/api/v1/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    if app.config["GERBANG_AUTO_MIGRATE"]:
        with app.app_context():
            db.init_db(config.now())
    # The server keeps its lists and keys current itself (gerbang_server/jobs.py): on by
    # default; a TESTING app runs it only when its config or the environment asks.
    asked = "GERBANG_JOBS_IN_PROCESS" in (test_config or {}) or \
        "GERBANG_JOBS_IN_PROCESS" in os.environ
    start_in_process(app, app.config["GERBANG_JOBS_IN_PROCESS"] and (asked or not app.testing))
    return app


def _security_headers(resp: Response) -> Response:
    """Every answer: no content sniffing. Admin answers carry certificate texts and audit
    entries: never stored by a cache."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
        resp.headers["Cache-Control"] = "no-store"
    return resp
