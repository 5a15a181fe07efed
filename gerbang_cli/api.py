"""The server's admin API over HTTP (docs/SERVER.md): bearer token, JSON in and out.

Errors become one CliError line: the server's own message for a refusal (4xx: exit 2), what to
check for a server that cannot be reached or fails (exit 1).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from . import settings
from .errors import CliError, failed, refused
from .messages import add

add({
    "api.unreachable": ("server {url} tidak dapat dihubungi ({detail}); periksa alamatnya "
                        "(`gerbang login`) dan jaringan",
                        "cannot reach the server {url} ({detail}); check its address "
                        "(`gerbang login`) and the network"),
    "api.auth": ("server menolak token ({detail}); jalankan `gerbang login` dengan token yang sah",
                 "the server refused the token ({detail}); run `gerbang login` with a valid token"),
    "api.refused": ("server menolak: {detail}", "the server refused: {detail}"),
    "api.failed": ("server gagal (HTTP {status}): {detail}", "the server failed (HTTP {status}): {detail}"),
    "api.not_json": ("jawaban server bukan JSON ({detail})", "the server's answer is not JSON ({detail})"),
})


class Api:
    def __init__(self, server: str | None = None, token: str | None = None,
                 timeout: float = 30) -> None:
        self.url = server or settings.server()
        self._token = token
        self.timeout = timeout

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = settings.token()
        return self._token

    def raw(self, method: str, path: str, body: Any = None, query: dict | None = None,
            auth: bool = True) -> tuple[bytes, str]:
        url = self.url + "/api/v1" + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items()
                                                 if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw = e.read()[:2000]
            try:
                detail = json.loads(raw).get("message") or raw.decode(errors="replace")
            except (ValueError, AttributeError):
                detail = raw.decode(errors="replace").strip()[:200] or e.reason
            detail = " ".join(str(detail).split())
            if e.code in (401, 403):
                raise refused("api.auth", detail=detail) from None
            if 400 <= e.code < 500:
                err = refused("api.refused", detail=detail)
                err.http_status = e.code  # type: ignore[attr-defined]
                raise err from None
            raise failed("api.failed", status=e.code, detail=detail) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise failed("api.unreachable", url=self.url, detail=str(reason)) from None

    def call(self, method: str, path: str, body: Any = None, query: dict | None = None,
             auth: bool = True) -> Any:
        raw, _ctype = self.raw(method, path, body, query, auth)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise failed("api.not_json", detail=str(e)) from None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", "/admin" + path, query=query or None)

    def find(self, path: str) -> Any:
        """GET, or None when the server answers 404."""
        try:
            return self.get(path)
        except CliError as e:
            if getattr(e, "http_status", None) == 404:
                return None
            raise

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", "/admin" + path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", "/admin" + path, body)

    def bundle(self, area: int) -> bytes:
        """The area's trust bundle (public: doors and technicians fetch it the same way)."""
        raw, _ = self.raw("GET", f"/areas/{area}/trustlist", auth=False)
        return raw

    def areas(self) -> dict[int, dict]:
        return {a["id"]: a for a in self.get("/areas")["areas"]}
