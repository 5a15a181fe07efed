"""Fixtures of the dashboard's browser tests: the real server under gunicorn on a free
127.0.0.1 port, filled by the scripted day (scripted_day.py), and headless Chromium (Debian's
``chromium`` package, driven by Playwright's Python package; no browser is ever downloaded).

Database: the real PostgreSQL in its own schema when ``GERBANG_TEST_POSTGRES_URL`` is set,
else a SQLite file. Without /usr/bin/chromium the browser tests skip with the reason."""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from gerbang_dev.bench.server import serve

from . import scripted_day

CHROMIUM = os.environ.get("GERBANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PG_ENV = "GERBANG_TEST_POSTGRES_URL"


def chromium_missing() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (requirements.lock)"
    return None


@contextmanager
def _database(tmp: str) -> Iterator[tuple[str, str | None]]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield f"sqlite:///{tmp}/dashboard.sqlite3", None
        return
    from sqlalchemy import create_engine, text

    schema = "gbdash_" + uuid.uuid4().hex[:12]
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


@pytest.fixture(scope="session")
def day_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """{"base": URL, "day": scripted_day.Day, "engine": engine on the same database}."""
    why = chromium_missing()
    if why:
        print(f"\nbrowser tests skipped: {why}")
        pytest.skip(why)
    from gerbang_server import db

    tmp = str(tmp_path_factory.mktemp("dash"))
    secret = secrets.token_hex(32)
    with _database(tmp) as (url, schema):
        day = scripted_day.provision(url, schema, secret)
        saved = os.environ.get("GERBANG_SECRET_KEY")
        os.environ["GERBANG_SECRET_KEY"] = secret  # serve() hands the environment to gunicorn
        log = open(os.path.join(tmp, "gunicorn.log"), "w")  # noqa: SIM115
        try:
            server = serve(url, schema, log=log)
            base = server.__enter__()
        finally:
            if saved is None:
                os.environ.pop("GERBANG_SECRET_KEY", None)
            else:
                os.environ["GERBANG_SECRET_KEY"] = saved
        eng = db.make_engine(url, schema)
        try:
            scripted_day.sync_day(base, day)
            scripted_day.make_stale(day)
            yield {"base": base, "day": day, "engine": eng}
        finally:
            eng.dispose()
            server.__exit__(None, None, None)
            log.close()


@pytest.fixture(scope="session")
def browser(day_server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Any, day_server: dict[str, Any]) -> Iterator[Any]:
    """new_page(width=1280, height=900) -> a page in a fresh context (own cookies)."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Any:
        ctx = browser.new_context(base_url=day_server["base"], viewport={"width": width,
                                                                         "height": height},
                                  accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def log_in(page: Any, user: str, password: str = scripted_day.PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state()
    assert not re.search(r"/login", page.url), f"log-in of {user} failed: {page.url}"


def screenshots_dir() -> str:
    d = os.path.join(scripted_day.ROOT, "docs", "screenshots")
    os.makedirs(d, exist_ok=True)
    return d

