"""The dashboard's routes (blueprint ``dashboard``): log-in, overview, area, unit, keys and
revocations, logs and their CSV. Every page needs a log-in; every POST a CSRF token; pages
with data are sent ``Cache-Control: no-store``. Admin actions call the same functions as the
admin API (keys.py, issuing.py, trustlists.py) and write the same audit rows, the dashboard
user being the actor."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import HTTPException

from gerbang_protocol.errors import Reason
from gerbang_protocol.reason_text import reason_name, reason_text

from .. import db, keys, trustlists
from ..config import now
from ..errors import ApiError
from . import accounts, i18n, queries, security, svg
from .i18n import t

bp = Blueprint("dashboard", __name__)

LOG_PAGE = 50
CTI = re.compile(r"^[0-9a-fA-F]{32}$")
UNIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@bp.before_request
def _guard() -> Any:
    if not current_app.config["GERBANG_DASHBOARD_ENABLED"]:
        return Response("dashboard disabled: the server has no GERBANG_SECRET_KEY "
                        "(docs/SERVER.md)\n", 503, mimetype="text/plain")
    if request.method == "POST":
        security.check_csrf()
    return None


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Vary"] = "Cookie"
    return resp


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"t": t, "lang": i18n.lang, "csrf_token": security.csrf_token,
            "current_user": security.current_user, "fmt_time": i18n.fmt_time,
            "fmt_duration": i18n.fmt_duration, "reason_name": reason_name,
            "reason": i18n.reason}


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException) -> tuple[str, int]:
    code = e.code or 500
    msg = "error_csrf" if e.description == "csrf" else f"error_{code}"
    detail = None if e.description in ("csrf", None) or code in (403, 404) else e.description
    return render_template("dashboard/error.html", code=code, msg=msg, detail=detail), code


@bp.errorhandler(ApiError)
def _api_error(e: ApiError) -> tuple[str, int]:
    return render_template("dashboard/error.html", code=e.status, msg="error_action",
                           detail=e.message), e.status


# --- log-in, log-out, language -----------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    nxt = security.safe_next(request.values.get("next"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        refused: accounts.LoginRefused | None = None
        with db.begin() as conn:
            try:
                user = accounts.log_in(conn, username, password, now())
            except accounts.LoginRefused as e:  # caught inside: the failure count commits
                refused = e
        if refused is None:
            security.start_session(user)
            return redirect(nxt)
        error = "login_locked" if refused.locked else "login_failed"
    status = 401 if error else 200
    return render_template("dashboard/login.html", error=error, next=nxt), status


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("dashboard.login"))


@bp.post("/lang")
def set_lang() -> Any:
    choice = request.form.get("lang")
    resp = redirect(security.safe_next(request.form.get("next")))
    if choice in i18n.LANGS:
        resp.set_cookie(i18n.COOKIE, choice, max_age=365 * 86400, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return resp


# --- overview ----------------------------------------------------------------------------------

@bp.get("/")
@security.login_required
def overview() -> str:
    user = security.current_user()
    tnow = now()
    day0 = i18n.day_start(i18n.today(tnow))
    with db.begin() as conn:
        areas, actions = queries.overview(conn, user, tnow, day0)
    return render_template("dashboard/overview.html", areas=areas, actions=actions, now=tnow,
                           day=i18n.today(tnow))


# --- area --------------------------------------------------------------------------------------

def _area_or_404(conn: Any, area_id: int) -> dict[str, Any]:
    security.require_area(area_id)  # 403 before telling whether it exists
    area = db.get_area(conn, area_id)
    if area is None:
        abort(404)
    return area


@bp.get("/areas/<id:area_id>")
@security.login_required
def area(area_id: int) -> str:
    tnow = now()
    day = i18n.parse_day(request.args.get("day")) or i18n.today(tnow)
    day0 = i18n.day_start(day)
    with db.begin() as conn:
        a = _area_or_404(conn, area_id)
        chart = queries.day_chart(conn, area_id, day0)
        units = queries.area_units(conn, area_id, tnow)
        ks = queries.key_state(conn, area_id, tnow)
        all_keys = keys.all_keys_json(conn, area_id, tnow)
    labels = (t("allow"), t("deny"))
    chart_svg = svg.stacked_bars(chart.hours, t("chart_title", area=a["name"], day=day),
                                 t("chart_desc", allow=chart.allow, deny=chart.deny), labels)
    return render_template("dashboard/area.html", area=a, day=day, chart=chart, chart_svg=chart_svg,
                           units=units, ks=ks, keys=all_keys,
                           timeline=_key_timeline(all_keys, tnow), now=tnow,
                           prev_day=day.fromordinal(day.toordinal() - 1),
                           next_day=day.fromordinal(day.toordinal() + 1))


def _key_timeline(all_keys: list[dict[str, Any]], tnow: int) -> Any:
    if not all_keys:
        return None
    start = min(k["accept_from"] for k in all_keys)
    ends = [k["accept_until"] or k["revoked_at"] or tnow for k in all_keys]
    end = max(max(ends), tnow) + 7 * 86400
    rows = []
    for k in all_keys:
        until = k["revoked_at"] if k["state"] == "revoked" else k["accept_until"]
        rows.append((f"#{k['id']} {k['kid'][:8]}", k["accept_from"], until, k["state"]))
    return svg.timeline(rows, start, end, t("key_timeline"), tnow)


@bp.post("/areas/<id:area_id>/name")
@security.admin_required
def rename_area(area_id: int) -> Any:
    name = request.form.get("name", "").strip()
    if not 0 < len(name) <= 200:
        abort(400, description=t("bad_area_name"))
    tnow = now()
    with db.begin() as conn:
        old = _area_or_404(conn, area_id)
        db.set_area(conn, area_id, name=name)
        db.audit(conn, tnow, _actor(), "area.rename", f"area {area_id}", None,
                 {"from": old["name"], "to": name, "via": "dashboard"})
    flash(t("done_rename"))
    return redirect(url_for("dashboard.area", area_id=area_id))


def _actor() -> str:
    return security.current_user().username  # type: ignore[union-attr]


# --- unit --------------------------------------------------------------------------------------

def _unit_or_404(conn: Any, device_id: str) -> dict[str, Any]:
    d = db.get_device(conn, device_id) if UNIT.match(device_id) else None
    if d is None:
        if security.current_user().sees_all():  # type: ignore[union-attr]
            abort(404)
        abort(403)  # a PIC learns nothing about units outside their areas
    security.require_area(d["area_id"])
    return d


@bp.get("/units/<device:device_id>")
@security.login_required
def unit(device_id: str) -> str:
    tnow = now()
    with db.begin() as conn:
        d = _unit_or_404(conn, device_id)
        a = db.get_area(conn, d["area_id"])
        history = queries.unit_history(conn, device_id)
        areas = db.list_areas(conn)
    state = queries.unit_state(d, tnow)
    oldest_first = list(reversed(history))
    sparks = {k: svg.sparkline([h["h"][k] for h in oldest_first], t(f"h_{k}"))
              for k in ("free_heap", "free_flash", "dropped")}
    return render_template("dashboard/unit.html", unit=state, area=a, history=history, sparks=sparks,
                           areas=areas, now=tnow, gaps=queries.as_obj(d["gaps"], []) or [])


@bp.post("/units/<device:device_id>/edit")
@security.admin_required
def edit_unit(device_id: str) -> Any:
    tnow = now()
    action = request.form.get("action")
    with db.begin() as conn:
        d = _unit_or_404(conn, device_id)
        if d["state"] != "active":
            abort(409, description=t("unit_retired"))
        if action == "move":
            raw = request.form.get("area", "")
            target = int(raw) if raw.isdigit() else 0
            if db.get_area(conn, target) is None:
                abort(400, description=t("bad_area"))
            if target != d["area_id"]:
                db.update_device(conn, device_id, area_id=target, trust_serial=0)
                db.audit(conn, tnow, _actor(), "device.move", device_id, None,
                         {"from": d["area_id"], "to": target, "via": "dashboard"})
        elif action == "retire":
            if request.form.get("confirm") != "yes":
                abort(400, description=t("confirm_missing"))
            db.update_device(conn, device_id, state="retired", retired_at=tnow)
            db.audit(conn, tnow, _actor(), "device.retire", device_id, None,
                     {"via": "dashboard"})
        else:
            abort(400, description=t("bad_action"))
    flash(t("done_saved"))
    return redirect(url_for("dashboard.unit", device_id=device_id))


# --- keys and revocations --------------------------------------------------------------------

@bp.get("/keys")
@security.login_required
def keys_page() -> str:
    user = security.current_user()
    tnow = now()
    with db.begin() as conn:
        areas = queries.visible_areas(conn, user)
        per_area = [(a, queries.key_state(conn, a["id"], tnow),
                     keys.all_keys_json(conn, a["id"], tnow)) for a in areas]
        revs = [r for r in db.list_revocations(conn, live_at=tnow) if user.may_see(r["area_id"])]
        audit = queries.recent_audit(conn, 100) if user.sees_all() else []
    return render_template("dashboard/keys.html", per_area=per_area, revocations=revs, audit=audit,
                           now=tnow)


@bp.route("/keys/rotate/<id:area_id>", methods=["GET", "POST"])
@security.admin_required
def rotate(area_id: int) -> Any:
    tnow = now()
    with db.begin() as conn:
        a = _area_or_404(conn, area_id)
    if request.method == "GET":
        return render_template("dashboard/confirm.html", title=t("rotate_title", area=a["name"]),
                               body=t("rotate_body"), action=request.path, fields={},
                               button=t("rotate_now"), back=url_for("dashboard.keys_page"))
    keys.kek()  # refuse (503 no_kek) before anything is written
    with db.begin() as conn:
        key_id = keys.rotate_now(conn, area_id, tnow)
        db.audit(conn, tnow, _actor(), "key.rotate", f"area {area_id}", None,
                 {"key": key_id, "via": "dashboard"})
    _resign(area_id)
    flash(t("done_rotate", area=a["name"], key=key_id))
    return redirect(url_for("dashboard.keys_page"))


@bp.route("/keys/<id:key_id>/revoke", methods=["GET", "POST"])
@security.admin_required
def revoke_key(key_id: int) -> Any:
    tnow = now()
    with db.begin() as conn:
        row = db.get_issuer_key(conn, key_id)
        if row is None:
            abort(404)
        a = _area_or_404(conn, row["area_id"])
    if request.method == "GET":
        return render_template("dashboard/confirm.html", title=t("revoke_key_title", key=key_id,
                                                        kid=row["kid"].hex(), area=a["name"]),
                               body=t("revoke_key_body"), action=request.path, fields={},
                               reason_field=True, button=t("revoke"),
                               back=url_for("dashboard.keys_page"))
    reason = request.form.get("reason", "").strip()[:200] or None
    with db.begin() as conn:
        keys.revoke_key(conn, key_id, tnow, reason)
        db.audit(conn, tnow, _actor(), "key.revoke", str(key_id), None,
                 {"reason": reason, "area": row["area_id"], "via": "dashboard"})
    _resign(row["area_id"])
    flash(t("done_revoke_key", key=key_id))
    return redirect(url_for("dashboard.keys_page"))


@bp.route("/revocations", methods=["GET", "POST"])
@security.admin_required
def revoke_cert() -> Any:
    from ..issuing import cti_hash, revoke_certificate

    raw = request.values.get("cti", "").strip()
    if not CTI.match(raw):
        abort(400, description=t("bad_cti"))
    reason = request.values.get("reason", "").strip()[:200] or None
    tnow = now()
    with db.begin() as conn:
        cert = db.get_issued_cert(conn, cti_hash(bytes.fromhex(raw)))
        if cert is None:
            abort(404)
        a = _area_or_404(conn, cert["area_id"])
    if request.method == "GET":
        return render_template("dashboard/confirm.html", title=t("revoke_cert_title", area=a["name"]),
                               body=t("revoke_cert_body", exp=i18n.fmt_time(cert["exp"])),
                               action=request.path, fields={"cti": raw.lower()},
                               reason_field=True, reason=reason or "", button=t("revoke"),
                               back=url_for("dashboard.keys_page"))
    with db.begin() as conn:
        row = revoke_certificate(conn, bytes.fromhex(raw), tnow, reason)
        db.audit(conn, tnow, _actor(), "cert.revoke", f"area {row['area_id']}", None,
                 {"revocation_hash": row["cti_hash"][:8].hex(), "reason": reason,
                  "via": "dashboard"})
    _resign(row["area_id"])
    flash(t("done_revoke_cert"))
    return redirect(url_for("dashboard.keys_page"))


def _resign(area_id: int) -> None:
    """Publish the change in a new trust list now (and the other areas' it made due:
    trustlists.publish); without a signer it waits (said so)."""
    try:
        trustlists.publish(area_id)
    except ApiError as e:
        if e.code not in ("no_signer", "no_kek"):
            raise
        flash(t("resign_pending", why=e.message))


# --- logs --------------------------------------------------------------------------------------

def _log_filter(conn: Any) -> tuple[queries.LogFilter, dict[str, str]]:
    """The filter from the query string (bad values: 400 naming the field), limited to the
    areas the user may see; also the cleaned values to put back in the form and links."""
    user = security.current_user()
    args = request.args
    shown: dict[str, str] = {}
    visible = [a["id"] for a in queries.visible_areas(conn, user)]
    f = queries.LogFilter(visible)
    raw = args.get("area", "")
    if raw:
        if not raw.isdigit():
            abort(400, description=t("bad_field", field="area"))
        security.require_area(int(raw))
        f.areas = [int(raw)] if int(raw) in visible else []
        shown["area"] = raw
    raw = args.get("unit", "").strip()
    if raw:
        d = _unit_or_404(conn, raw)
        f.unit = d["id"]
        shown["unit"] = raw
    for name in ("from", "to"):
        raw = args.get(name, "")
        if raw:
            day = i18n.parse_day(raw)
            if day is None:
                abort(400, description=t("bad_field", field=name))
            if name == "from":
                f.since = i18n.day_start(day)
            else:
                f.until = i18n.day_start(day) + 86400
            shown[name] = raw
    raw = args.get("decision", "")
    if raw:
        if raw not in ("allow", "deny"):
            abort(400, description=t("bad_field", field="decision"))
        f.decision = 1 if raw == "allow" else 0
        shown["decision"] = raw
    raw = args.get("reason", "")
    if raw:
        if not raw.isdigit() or int(raw) > 255:
            abort(400, description=t("bad_field", field="reason"))
        f.reason = int(raw)
        shown["reason"] = raw
    return f, shown


@bp.get("/logs")
@security.login_required
def logs() -> str:
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10**6 else 1
    with db.begin() as conn:
        f, shown = _log_filter(conn)
        total = queries.log_count(conn, f)
        rows = queries.log_page(conn, f, page, LOG_PAGE)
        areas = queries.visible_areas(conn, security.current_user())
    names = {a["id"]: a["name"] for a in areas}
    pages = max((total + LOG_PAGE - 1) // LOG_PAGE, 1)
    return render_template("dashboard/logs.html", rows=rows, total=total, page=page, pages=pages,
                           shown=shown, areas=areas, names=names,
                           reasons=[(int(r), r.name) for r in Reason])


CSV_COLUMNS = ("time_wib", "area_id", "area", "unit", "seq", "decision", "reason_code",
               "reason_name", "reason_text", "clock", "flags")


@bp.get("/logs.csv")
@security.login_required
def logs_csv() -> Response:
    with db.begin() as conn:
        f, _ = _log_filter(conn)
        names = {a["id"]: a["name"] for a in db.list_areas(conn)}
    lang = i18n.lang()
    allow, deny = t("allow"), t("deny")

    def generate() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(CSV_COLUMNS)
        with db.engine().connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                queries.log_select(f))
            for i, r in enumerate(result, 1):
                w.writerow([i18n.fmt_time(r.time, seconds=True), r.area_id,
                            names.get(r.area_id, ""), r.device_id, r.seq,
                            allow if r.decision == 1 else deny, r.reason,
                            reason_name(r.reason), reason_text(r.reason, lang), r.clock,
                            r.flags])
                if i % 500 == 0:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
        yield buf.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=gerbang-log.csv"})
