"""Diskominfo's dashboard: server-rendered pages for staff (docs/DASHBOARD.md).

``register(app)`` (called once by the app factory) adds the blueprint, the security headers,
the secret key check and the ``create-user`` command. Modules: ``accounts`` (users, password
hashing, log-in throttling), ``security`` (session, CSRF, roles, headers), ``i18n`` (message
catalogue id/en, WIB time), ``queries`` (what the pages read), ``svg`` (charts drawn here),
``views`` (the routes), ``counts`` (kept at ingest by the sync engine), ``cli``.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import cli, security, views

    security.configure(app)
    app.register_blueprint(views.bp)
    cli.register(app)
