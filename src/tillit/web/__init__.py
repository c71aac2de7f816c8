"""The web app: the JSON API of the bank now, Swedish pages later (FastAPI).

``create_app`` builds it; see docs/api.md for the endpoints, authentication and errors."""

from tillit.web._app import create_app
from tillit.web._auth import COOKIE_NAME, CSRF_HEADER, LoginLimiter

__all__ = ["COOKIE_NAME", "CSRF_HEADER", "LoginLimiter", "create_app"]
