"""The Flask application factory (flaskr style)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify

from . import config, db, errors


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config (defaults < instance/config.py < environment < test_config),
    the database engine, blueprints, JSON errors, CLI commands; in dev (GERBANG_AUTO_MIGRATE,
    the default) the schema is upgraded and the 18 areas seeded at start."""
    app = Flask(__name__, instance_relative_config=True)
    config.load(app, test_config)
    app.extensions["gerbang_engine"] = db.make_engine(app.config["DATABASE_URL"],
                                                      app.config["GERBANG_DB_SCHEMA"])
    errors.register(app)

    from . import admin, export, fleet, issuing, trustlists  # noqa: F401  (routes attach)

    app.register_blueprint(admin.bp)
    app.register_blueprint(trustlists.bp)
    sync = _optional("gerbang_server.sync")  # the sync endpoint (server/sync.py), when present
    if sync is not None and hasattr(sync, "bp"):
        app.register_blueprint(sync.bp)

    from . import cli

    cli.register(app)

    @app.get("/api/v1/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    if app.config["GERBANG_AUTO_MIGRATE"]:
        with app.app_context():
            init_db()
    # The server keeps its lists and keys current itself (gerbang_server/jobs.py): on by
    # default; a TESTING app runs it only when its config or the environment asks.
    asked = "GERBANG_JOBS_IN_PROCESS" in (test_config or {}) or \
        "GERBANG_JOBS_IN_PROCESS" in os.environ
    from .jobs import start_in_process

    start_in_process(app, app.config["GERBANG_JOBS_IN_PROCESS"] and (asked or not app.testing))
    return app


def init_db() -> int:
    """Upgrade the schema to the newest migration and load the areas; returns the area count."""
    db.upgrade(db.engine())
    with db.begin() as conn:
        return db.seed_areas(conn, config.now())


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise
