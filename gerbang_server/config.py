"""Configuration: defaults here, then the instance file ``<instance>/config.py``, then the
environment (``GERBANG_*`` and ``DATABASE_URL``), then the ``test_config`` mapping.

Times are seconds. ``GERBANG_NOW`` is the clock (a callable returning unix seconds): tests
replace it to move time; everything in the server asks :func:`now` instead of ``time.time``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

DAY = 86400

DEFAULTS: dict[str, Any] = {
    # Database: None -> sqlite:///<instance>/gerbang.sqlite3
    "DATABASE_URL": None,
    "GERBANG_DB_SCHEMA": None,  # PostgreSQL search_path (tests isolate each test in a schema)
    "GERBANG_AUTO_MIGRATE": True,  # run Alembic upgrade + area seeding when the app starts
    # Key-encryption key for private keys at rest: 32 bytes, hex or base64 (env GERBANG_KEK)
    "GERBANG_KEK": None,
    # Root public key (hex, 32 bytes): when set, imported key certificates must verify under it
    "GERBANG_ROOT_PUB": None,
    # Trust lists
    "GERBANG_TRUSTLIST_VALIDITY": 14 * DAY,
    "GERBANG_TRUSTLIST_RESIGN_BEFORE": 7 * DAY,  # re-sign when less than this remains
    # Issuer keys
    "GERBANG_KEY_ROTATION_PERIOD": 30 * DAY,
    "GERBANG_KEY_PREPUBLISH": 2 * DAY,  # next key is in trust lists this long before use
    "GERBANG_KEY_CLOCK_SKEW": 300,  # accept_from = activation - skew (door clocks lag)
    "GERBANG_CERT_MAX_VALIDITY": 30 * DAY,
    "GERBANG_CERT_DEFAULT_VALIDITY": 30 * DAY,
    # Jobs (rotation + re-signing): every server process runs them under a lease (jobs.py);
    # off: cron runs `flask --app gerbang_server run-jobs`
    "GERBANG_JOBS_IN_PROCESS": True,
    "GERBANG_JOBS_INTERVAL": 3600,
    # Sync: minimum seconds between two syncs of one device that do not advance its ack (0 off)
    "GERBANG_SYNC_MIN_INTERVAL": 5,
    # Fleet health
    "GERBANG_FLEET_STALE_AFTER": DAY,  # a device not synced for this long is stale
    "GERBANG_FLEET_WARN_BEFORE": 3 * DAY,  # warn about lists/keycerts expiring this soon
    # Export
    "GERBANG_EXPORT_PAGE": 1000,
    "GERBANG_EXPORT_MAX_PAGE": 10000,
    # Largest request body (Flask): admin JSON is small; the sync endpoint has its own 64 KiB
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # The clock (callable -> unix seconds)
    "GERBANG_NOW": time.time,
}

_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}


def load(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key in DEFAULTS:
        if key == "GERBANG_NOW" or key not in os.environ:
            continue
        raw = os.environ[key]
        if key in _BOOL_KEYS:
            app.config[key] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif key in _INT_KEYS:
            app.config[key] = int(raw)
        else:
            app.config[key] = raw
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "gerbang.sqlite3")
        app.config["DATABASE_URL"] = "sqlite:///" + path


def now() -> int:
    """Current unix time in seconds from the app's clock (``GERBANG_NOW``)."""
    return int(current_app.config["GERBANG_NOW"]())


def cfg(key: str) -> Any:
    return current_app.config[key]
