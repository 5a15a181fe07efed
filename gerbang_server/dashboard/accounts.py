"""Staff accounts: user name, scrypt password hash (werkzeug), role, areas; log-in throttling.

Roles: ``pic`` (an office's person in charge: sees and exports only the areas listed on the
account), ``viewer`` (Diskominfo: every area, read only), ``admin`` (Diskominfo: every area,
rotates and revokes keys, revokes certificates, edits units and areas).

Throttling: after ``MAX_FAILURES`` wrong passwords for one user name (whether it exists or
not), that name is locked for ``LOCK_SECONDS`` from the last failure; the correct password is
refused while locked. A successful log-in clears the count.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import db

ROLES = ("pic", "viewer", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    areas: tuple[int, ...]  # pic only
    fingerprint: str  # changes with the password: old sessions end

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees_all(self) -> bool:
        return self.role in ("viewer", "admin")

    def may_see(self, area_id: int) -> bool:
        return self.sees_all() or area_id in self.areas


class LoginRefused(Exception):
    def __init__(self, locked: bool) -> None:
        super().__init__("locked" if locked else "bad credentials")
        self.locked = locked


def _user(row: Any) -> User:
    return User(row.id, row.username, row.role, tuple(json.loads(row.areas) if isinstance(row.areas, str) else row.areas or []),
                hashlib.sha256(row.password_hash.encode()).hexdigest()[:16])


def create_user(conn: Connection, username: str, password: str, role: str,
                areas: list[int], now: int) -> User:
    """Validate and store an account; ValueError with the reason when something is wrong."""
    if not USERNAME.match(username):
        raise ValueError("user name: 1-64 of a-z 0-9 . _ - (starting with a letter or digit)")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must be at least {MIN_PASSWORD} characters")
    if role == "pic":
        if not areas:
            raise ValueError("a pic account needs --area (one or more area ids)")
        known = {a["id"] for a in db.list_areas(conn)}
        unknown = sorted(set(areas) - known)
        if unknown:
            raise ValueError(f"no area {', '.join(map(str, unknown))}")
    elif areas:
        raise ValueError(f"a {role} account sees every area; --area is for pic accounts")
    u = db.dashboard_users.c
    if conn.execute(select(u.id).where(u.username == username)).first() is not None:
        raise ValueError(f"user {username} already exists")
    conn.execute(insert(db.dashboard_users).values(
        username=username, password_hash=generate_password_hash(password, method="scrypt"),
        role=role, areas=sorted(set(areas)) if areas else None, created_at=now))
    db.audit(conn, now, "cli", "user.create", username, None,
             {"role": role, "areas": sorted(set(areas))})
    return get_user_by_name(conn, username)  # type: ignore[return-value]


def set_password(conn: Connection, username: str, password: str, now: int) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must be at least {MIN_PASSWORD} characters")
    u = db.dashboard_users.c
    done = conn.execute(update(db.dashboard_users).where(u.username == username).values(
        password_hash=generate_password_hash(password, method="scrypt"))).rowcount
    if not done:
        raise ValueError(f"no user {username}")
    conn.execute(delete(db.login_failures).where(db.login_failures.c.username == username))
    db.audit(conn, now, "cli", "user.password", username)


def get_user(conn: Connection, user_id: int) -> User | None:
    u = db.dashboard_users.c
    row = conn.execute(select(db.dashboard_users).where(
        u.id == user_id, u.disabled_at.is_(None))).first()
    return None if row is None else _user(row)


def get_user_by_name(conn: Connection, username: str) -> User | None:
    u = db.dashboard_users.c
    row = conn.execute(select(db.dashboard_users).where(
        u.username == username, u.disabled_at.is_(None))).first()
    return None if row is None else _user(row)


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(db.dashboard_users).order_by(db.dashboard_users.c.username))
    return [_user(r) for r in rows]


def log_in(conn: Connection, username: str, password: str, now: int) -> User:
    """The user when name and password match and the name is not locked; else LoginRefused."""
    name = username.strip().lower()[:64]
    f = db.login_failures.c
    fail = conn.execute(select(db.login_failures).where(f.username == name)).first()
    if fail is not None and fail.failures >= MAX_FAILURES and now - fail.last_at < LOCK_SECONDS:
        raise LoginRefused(locked=True)
    u = db.dashboard_users.c
    row = conn.execute(select(db.dashboard_users).where(
        u.username == name, u.disabled_at.is_(None))).first()
    # an unknown name costs a hash check too: the time taken tells nothing
    ok = check_password_hash(row.password_hash if row else _DUMMY_HASH, password)
    if row is None or not ok:
        if fail is None:
            conn.execute(insert(db.login_failures).values(username=name, failures=1,
                                                          last_at=now))
        else:
            n = 1 if now - fail.last_at >= LOCK_SECONDS else fail.failures + 1
            conn.execute(update(db.login_failures).where(f.username == name)
                         .values(failures=n, last_at=now))
        db.audit(conn, now, name or "?", "dashboard.login_failed", None, 401)
        raise LoginRefused(locked=False)
    if fail is not None:
        conn.execute(delete(db.login_failures).where(f.username == name))
    db.audit(conn, now, name, "dashboard.login", None, 200)
    return _user(row)
