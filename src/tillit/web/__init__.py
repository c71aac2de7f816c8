"""The web app (FastAPI): Swedish pages with JSON twins (docs/web.md) and the bank's JSON
API (docs/api.md). ``create_app`` builds it; ``app_from_environment`` builds it as `tillit
serve` runs it."""

from tillit.web._app import app_from_environment, create_app
from tillit.web._auth import COOKIE_NAME, CSRF_HEADER, LoginLimiter

__all__ = ["COOKIE_NAME", "CSRF_HEADER", "LoginLimiter", "app_from_environment", "create_app"]
