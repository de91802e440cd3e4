"""Who may call the API and how often: API keys, the client address behind
the load balancer, per-client rate limits and CORS."""

from __future__ import annotations

import hmac

from flask import Flask, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from api.admission import UPLOADS
from api.config import Config
from api.errors import ApiError

#: Paths anyone may call without an API key: the load balancer's probe, what
#: a browser needs to show the page and the docs, and annotated videos, whose
#: unguessable ids (``secrets.token_urlsafe(18)``) are the capability: a
#: ``<video src>`` cannot send a header.
PUBLIC_PATHS = {"/health", "/", "/openapi.json", "/poses"}
PUBLIC_PREFIXES = ("/docs", "/assets/", "/annotated/")


def key_is_valid(given: str | None, keys: tuple[str, ...]) -> bool:
    """Whether ``given`` equals one of ``keys``, compared in constant time
    (``hmac.compare_digest``) against every key so the timing tells nothing."""
    if given is None:
        return False
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in keys]
    return any(matches)


def init_app(app: Flask, config: Config) -> Limiter:
    """Install, in order: ``ProxyFix`` for ``config.forwarded_hops`` trusted
    proxies, CORS for ``config.cors_origins``, the API key check when
    ``config.api_keys`` is set, and the rate limit ``config.rate_limit`` on
    uploads per client address.

    Returns:
        The limiter (its storage is per process: one gunicorn worker).
    """
    if config.forwarded_hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.forwarded_hops)  # type: ignore[method-assign]
    if config.cors_origins:
        CORS(
            app,
            origins=list(config.cors_origins),
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    if config.api_keys:

        @app.before_request
        def require_key() -> None:
            if request.method == "OPTIONS" or request.path in PUBLIC_PATHS:
                return
            if request.path.startswith(PUBLIC_PREFIXES):
                return
            if not key_is_valid(request.headers.get("X-API-Key"), config.api_keys):
                raise ApiError(
                    401,
                    "unauthorized",
                    "a valid X-API-Key header is required",
                    {"WWW-Authenticate": "ApiKey"},
                )

    return Limiter(
        get_remote_address,
        app=app,
        default_limits=[config.rate_limit] if config.rate_limit else [],
        default_limits_exempt_when=lambda: (request.method, request.path) not in UPLOADS,
        storage_uri="memory://",
        headers_enabled=True,
    )
