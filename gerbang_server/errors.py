"""JSON errors: every error response is ``{"error": code, "message": text}``."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge


class ApiError(Exception):
    """Raise anywhere in a request: becomes a JSON error with this status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


def not_found(message: str, code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, code, message)


def error_response(status: int, code: str, message: str) -> Response:
    resp = jsonify({"error": code, "message": message})
    resp.status_code = status
    return resp


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(e: ApiError) -> Response:
        return error_response(e.status, e.code, e.message)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(e: RequestEntityTooLarge) -> Response:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(413, "too_large", f"the body is over {limit} bytes")

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> Response:
        code = (e.name or "error").lower().replace(" ", "_").replace("'", "")
        resp = error_response(e.code or 500, code, e.description or e.name)
        if e.code == 405 and e.response is None:
            allowed = getattr(e, "valid_methods", None)
            if allowed:
                resp.headers["Allow"] = ", ".join(allowed)
        return resp

    @app.errorhandler(Exception)
    def _internal(e: Exception) -> Response:
        app.logger.exception("unhandled error")
        return error_response(500, "internal", "internal server error")
