"""Session, CSRF, roles and response headers of the dashboard.

The session is Flask's signed cookie (``SECRET_KEY``): HttpOnly, SameSite=Lax, Secure when
``GERBANG_HTTPS`` is on (the server then sits behind an https proxy; ProxyFix reads its
X-Forwarded-Proto/-For). It holds the user id, the password fingerprint (a changed password
ends old sessions), the log-in time (sessions end after ``GERBANG_SESSION_LIFETIME``) and the
CSRF token, which every POST form sends back as ``csrf``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import db
from . import accounts

DEFAULT_LIFETIME = 8 * 3600
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def _setting(app: Flask, key: str, default: Any = None) -> Any:
    """app.config (instance file, test_config) first, then the environment."""
    value = app.config.get(key)
    return os.environ.get(key, default) if value is None else value


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in (
        "1", "true", "yes", "on")


def configure(app: Flask) -> None:
    secret = _setting(app, "SECRET_KEY") or _setting(app, "GERBANG_SECRET_KEY")
    if not secret and (app.testing or app.debug):
        secret = secrets.token_hex(32)  # dev and tests only: sessions end at restart
    app.config["GERBANG_DASHBOARD_ENABLED"] = bool(secret)
    if secret:
        app.secret_key = secret
    else:
        app.logger.warning("dashboard disabled: set GERBANG_SECRET_KEY (docs/SERVER.md)")
    https = _flag(_setting(app, "GERBANG_HTTPS", False))
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=https, SESSION_COOKIE_NAME="gerbang_session")
    app.config["GERBANG_SESSION_LIFETIME"] = int(_setting(app, "GERBANG_SESSION_LIFETIME",
                                                          DEFAULT_LIFETIME))
    if https:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    @app.after_request
    def _headers(resp: Any) -> Any:
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        if https:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp


# --- session and user ----------------------------------------------------------------------------

def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Every POST: the form's ``csrf`` must equal the session's token, else 400."""
    sent = request.form.get("csrf", "")
    token = session.get("csrf", "")
    if not token or not sent or not hmac.compare_digest(sent, token):
        abort(400, description="csrf")


def start_session(user: accounts.User) -> None:
    session.clear()
    session.update(uid=user.id, fp=user.fingerprint, at=int(time.time()),
                   csrf=secrets.token_urlsafe(32))


def current_user() -> accounts.User | None:
    if "user" in g:
        return g.user
    user = None
    uid, at = session.get("uid"), session.get("at")
    lifetime = current_app.config["GERBANG_SESSION_LIFETIME"]
    if isinstance(uid, int) and isinstance(at, int) and time.time() - at < lifetime:
        with db.begin() as conn:
            user = accounts.get_user(conn, uid)
        if user is not None and not hmac.compare_digest(user.fingerprint, session.get("fp", "")):
            user = None
    g.user = user
    return user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            session.pop("uid", None)
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:  # type: ignore[union-attr]
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def require_area(area_id: int) -> None:
    """403 unless the user may see the area (a PIC sees only their own)."""
    user = current_user()
    if user is None or not user.may_see(area_id):
        abort(403)


def safe_next(raw: str | None) -> str:
    """A local path to go back to (never another site: //host and schemes are refused)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return url_for("dashboard.overview")
