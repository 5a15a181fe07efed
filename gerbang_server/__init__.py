"""Gerbang sync server (Flask). ``flask --app gerbang_server run``; gunicorn ``server:create_app()``."""

from .app import create_app

__all__ = ["create_app"]
