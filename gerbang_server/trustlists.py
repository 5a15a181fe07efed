"""Trust lists per area: built from the database, signed by the imported signer, served with
ETag/304 at ``GET /api/v1/areas/<id>/trustlist``.

A new list (serial + 1) is signed when its content changes (keys, windows, policy, revoked
certificates, tag key, signer) or when less than ``GERBANG_TRUSTLIST_RESIGN_BEFORE`` remains
of the current one. Lists are valid ``GERBANG_TRUSTLIST_VALIDITY`` (capped at the signer's
key certificate end). ``refresh`` is idempotent and safe to call from several processes: the
area row is locked (PostgreSQL) and a lost race on the unique (area, serial) is retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from gerbang_protocol import Policy, TrustedKey, TrustList, make_bundle, sign_trustlist
from gerbang_protocol.trustlist import MAX_KEYS, MAX_REVOKED

from . import db, keys
from .config import now
from .errors import ApiError

bp = Blueprint("trustlists", __name__, url_prefix="/api/v1/areas")
log = logging.getLogger("gerbang.trustlists")

# The most revoked ids a published list may hold: the largest list a door takes end to end at
# the ESP32's 112 KiB heap (a sync answer names it, the sync boot streams it to flash, the next
# boot installs it from the file in pieces, the running app searches it in the trust cache
# file): the format's cap, 8,192 ids (a 66 KB bundle), measured with three issuer keys (a
# rotation overlap) on both interpreters (docs/SYNC.md "Large trust lists"). The door's heap
# no longer grows with the list, so no margin is taken off. A revocation beyond it is refused
# (trustlist_full) rather than stored unpublished: a list the doors cannot take is no list.
MAX_PUBLISHED_REVOKED = MAX_REVOKED

MEDIA_TYPE = "application/cbor"


def policy_of(area: dict[str, Any]) -> Policy:
    p = {**db.DEFAULT_POLICY, **(area["policy"] or {})}
    return Policy(p["min_doses"], p["categories"], p["clock_policy"], p["max_unsynced"],
                  p["reuse_window"])


def _content(conn: Connection, area: dict[str, Any], t: int,
             signer_id: int) -> tuple[list[keys.KeyWindow], list[bytes], list[bytes], bytes]:
    """The list's content at time ``t`` and its hash (open-ended key ends left symbolic):
    key windows, revoked ids, other areas' kids."""
    wins = keys.windows(conn, area["id"], t)
    if len(wins) > MAX_KEYS:  # keep the newest: the oldest are about to close anyway
        wins = wins[-MAX_KEYS:]
    revoked = sorted({r["cti_hash"][:8] for r in db.list_revocations(conn, area["id"], live_at=t)})
    if len(revoked) > MAX_PUBLISHED_REVOKED:
        msg = (f"area {area['id']} has {len(revoked)} live revocations; a door's list holds at "
               f"most {MAX_PUBLISHED_REVOKED}: the list is not re-signed")
        log.error("%s", msg)
        raise ApiError(409, "trustlist_full", msg)
    others = keys.other_area_kids(conn, area["id"])
    desc = {
        "keys": [[w.row["kid"].hex(), w.row["public_key"].hex(), w.accept_from, w.accept_until]
                 for w in wins],
        "policy": list(policy_of(area).to_cbor().items()),
        "revoked": [h.hex() for h in revoked],
        "tag_key": area["tag_key"].hex(),
        "other_kids": [k.hex() for k in others],
        "signer": signer_id,
        "max_validity": current_app.config["GERBANG_CERT_MAX_VALIDITY"],
    }
    digest = hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).digest()
    return wins, revoked, others, digest


def check_room(conn: Connection, area_id: int, t: int) -> None:
    """Before a revocation is stored: refuse it (409 trustlist_full) when the area's list
    already holds the most revoked ids a door takes."""
    live = {r["cti_hash"][:8] for r in db.list_revocations(conn, area_id, live_at=t)}
    if len(live) >= MAX_PUBLISHED_REVOKED:
        msg = (f"area {area_id} already has {len(live)} live revocations, the most a door's "
               f"trust list holds ({MAX_PUBLISHED_REVOKED}); entries leave the list when their "
               "certificates expire (or rotate the area's key and revoke the old key instead)")
        log.error("revocation refused: %s", msg)
        raise ApiError(409, "trustlist_full", msg)


def needs_refresh(latest: dict[str, Any] | None, digest: bytes, t: int) -> bool:
    if latest is None or latest["content_hash"] != digest:
        return True
    return latest["expires"] - t < current_app.config["GERBANG_TRUSTLIST_RESIGN_BEFORE"]


def _refresh_in(conn: Connection, area_id: int, t: int, force: bool,
                lock: bool = True) -> dict[str, Any] | None:
    """The current list, signing a new one when due. With ``lock`` False (the read-only fast
    path) nothing is written and None means a new list is due."""
    q = select(db.areas).where(db.areas.c.id == area_id)
    area = conn.execute(q.with_for_update() if lock else q).first()
    if area is None:
        raise ApiError(404, "unknown_area", f"no area {area_id}")
    area = dict(area._mapping)
    found = keys.signer(conn, t)
    if found is None:
        raise ApiError(503, "no_signer", "no valid trust-list signer imported "
                       "(flask --app gerbang_server import-keycert)")
    srow, spriv = found
    latest = db.latest_trustlist(conn, area_id)
    wins, revoked, others, digest = _content(conn, area, t, srow["id"])
    if not force and not needs_refresh(latest, digest, t):
        return latest
    if not lock:
        return None
    serial = (latest["serial"] if latest else 0) + 1
    expires = min(t + current_app.config["GERBANG_TRUSTLIST_VALIDITY"], srow["not_after"])
    max_validity = current_app.config["GERBANG_CERT_MAX_VALIDITY"]
    tkeys = [TrustedKey(w.row["kid"], w.row["public_key"], w.accept_from,
                        w.accept_until if w.accept_until is not None else expires + max_validity,
                        area_id) for w in wins]
    tl = TrustList(area_id, serial, t, expires, tkeys, policy_of(area), revoked, area["tag_key"],
                   others)
    bundle = make_bundle(srow["keycert"], sign_trustlist(spriv, tl))
    etag = hashlib.sha256(bundle).hexdigest()[:32]
    db.insert_trustlist(conn, area_id=area_id, serial=serial, issued=t, expires=expires,
                        content_hash=digest, bundle=bundle, etag=etag, signer_id=srow["id"])
    return db.latest_trustlist(conn, area_id)


def refresh(area_id: int, force: bool = False, t: int | None = None) -> dict[str, Any]:
    """Bring the area's trust list up to date (own transaction); returns the current row."""
    t = now() if t is None else t
    if not force:  # fast path: most calls find the list up to date and write nothing
        with db.begin() as conn:
            row = _refresh_in(conn, area_id, t, False, lock=False)
        if row is not None:
            return row
    for attempt in range(3):
        try:
            with db.begin() as conn:
                return _refresh_in(conn, area_id, t, force)
        except IntegrityError:  # another process signed the same serial first
            if attempt == 2:
                raise
            force = False
    raise AssertionError("unreachable")


def area_ids() -> list[int]:
    with db.begin() as conn:
        return [a["id"] for a in db.list_areas(conn)]


def publish(area_id: int, t: int | None = None) -> dict[str, Any]:
    """After an admin change in an area: its own list now (errors raised), then every other
    area's that the change made due — their lists name its kids (docs/PROTOCOL.md §4 label 9),
    so a key change reaches their doors at their next sync; an area whose content did not
    change costs one read (refresh's fast path). Errors there are logged: those doors keep
    their list, the jobs pass tries again."""
    row = refresh(area_id, t=t)
    for other in area_ids():
        if other != area_id:
            try:
                refresh(other, t=t)
            except ApiError as e:
                log.warning("area %d: trust list not re-signed after area %d's key change: %s",
                            other, area_id, e.message)
    return row


def refresh_all(force: bool = False, t: int | None = None) -> list[dict[str, Any]]:
    return [refresh(i, force=force, t=t) for i in area_ids()]


def summary(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"serial": row["serial"], "issued": row["issued"], "expires": row["expires"],
            "etag": row["etag"], "size": len(row["bundle"])}


@bp.get("/<id:area_id>/trustlist")
def get_trustlist(area_id: int) -> Response:
    """The area's current list (refreshed when due), or with ``?serial=N`` that stored serial
    (what a sync answer named: the door fetches exactly that one, docs/SYNC.md)."""
    serial = request.args.get("serial")
    if serial is not None:
        if not re.fullmatch(r"[0-9]{1,10}", serial):  # not str.isdigit: "²" is a digit
            raise ApiError(400, "bad_field", "serial must be a whole number")
        with db.begin() as conn:
            row = db.get_trustlist(conn, area_id, int(serial))
        if row is None:
            raise ApiError(404, "unknown_serial", f"area {area_id} has no list {serial}")
        return _serve(row)
    try:
        row = refresh(area_id)
    except ApiError as e:  # over the door's limit: the last list the doors can take (logged)
        with db.begin() as conn:
            row = db.latest_trustlist(conn, area_id)
        if e.code != "trustlist_full" or row is None:
            raise
    return _serve(row)


def _serve(row: dict[str, Any]) -> Response:
    etag = row["etag"]
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache",
               "X-Gerbang-Serial": str(row["serial"]),
               "X-Gerbang-Expires": str(row["expires"])}
    tags = _etags(request.headers.get("If-None-Match", ""))
    if etag in tags or "*" in tags:
        return Response(status=304, headers=headers)
    return Response(bytes(row["bundle"]), status=200, mimetype=MEDIA_TYPE, headers=headers)


def _etags(header: str) -> set[str]:
    out = set()
    for part in header.split(","):
        part = part.strip()
        if part == "*":
            out.add(part)
            continue
        if part.startswith("W/"):
            part = part[2:]
        out.add(part.strip('"'))
    return out


def latest_bundle(conn: Connection, area_id: int) -> tuple[int, bytes] | None:
    """For the sync engine: (serial, bundle bytes) of the area's current list, or None."""
    row = db.latest_trustlist(conn, area_id)
    return None if row is None else (row["serial"], bytes(row["bundle"]))
