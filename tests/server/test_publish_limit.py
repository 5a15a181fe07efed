"""The server never publishes a trust list larger than a door takes (gerbang_server/trustlists.py
MAX_PUBLISHED_REVOKED, the limit measured through the sync boot at 112K: docs/SYNC.md): the
revocation that would go over it is refused with a clear error and nothing is stored; a list
over it (e.g. the limit lowered) is never signed, logged, and the last good list is served."""

from __future__ import annotations

import hashlib
import logging
import os

from gerbang_protocol import open_bundle
from gerbang_server import db
from gerbang_server.trustlists import MAX_PUBLISHED_REVOKED

from .conftest import DAY


def _fill(app, area: int, n: int, exp: int) -> None:
    """n live revocations straight into the table (as if revoked one by one over months)."""
    with app.app_context(), db.begin() as conn:
        conn.execute(db.revocations.insert(), [
            {"area_id": area, "cti_hash": hashlib.sha256(os.urandom(16)).digest(), "exp": exp,
             "revoked_at": 0, "reason": "filler"} for _ in range(n)])


def test_revocation_over_the_door_limit_is_refused(app, client, auth, clock, area_ready, caplog):
    certs = [client.post("/api/v1/admin/areas/1/certificates", json={"category": 1},
                         headers=auth).get_json() for _ in range(2)]
    _fill(app, 1, MAX_PUBLISHED_REVOKED - 1, clock.t + 30 * DAY)
    r = client.post("/api/v1/admin/revocations", json={"cti": certs[0]["cti"]}, headers=auth)
    assert r.status_code == 201, r.get_json()
    full = r.get_json()["trustlist"]
    bundle = client.get("/api/v1/areas/1/trustlist").data
    _, tl = open_bundle(bundle, area_ready["root_pub"], clock.t)
    assert len(tl.revoked) == MAX_PUBLISHED_REVOKED and tl.serial == full["serial"]
    # one more: refused, with the reason and what to do; nothing stored, the list unchanged
    with caplog.at_level(logging.ERROR, logger="gerbang.trustlists"):
        r = client.post("/api/v1/admin/revocations", json={"cti": certs[1]["cti"]},
                        headers=auth)
    assert r.status_code == 409, r.get_json()
    body = r.get_json()
    assert body["error"] == "trustlist_full"
    assert f"the most a door's trust list holds ({MAX_PUBLISHED_REVOKED})" in body["message"]
    assert any("revocation refused" in rec.getMessage() for rec in caplog.records)
    with app.app_context(), db.begin() as conn:
        assert len(db.list_revocations(conn, 1)) == MAX_PUBLISHED_REVOKED
    r = client.get("/api/v1/areas/1/trustlist")
    assert r.headers["X-Gerbang-Serial"] == str(full["serial"])


def test_list_over_the_limit_is_never_signed(app, client, clock, area_ready, caplog):
    # revocations that got in another way (an older server with a higher limit): no list
    # over the limit is signed, the error is logged, the last good list is still served
    _fill(app, 1, MAX_PUBLISHED_REVOKED + 1, clock.t + 30 * DAY)
    with caplog.at_level(logging.ERROR, logger="gerbang.trustlists"):
        r = client.get("/api/v1/areas/1/trustlist")
    assert r.status_code == 200
    assert r.headers["X-Gerbang-Serial"] == str(area_ready["serial"])
    assert any(f"a door's list holds at most {MAX_PUBLISHED_REVOKED}" in rec.getMessage()
               for rec in caplog.records)
    with app.app_context():
        from gerbang_server.jobs import run_jobs

        report = run_jobs()
    assert any("area 1: trust list:" in e and "at most" in e for e in report["errors"])
