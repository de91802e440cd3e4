"""Admission control: at most ``Config.max_pending`` analyses in the
service at once (running on the pool or waiting for it). One more upload is
answered 503 with ``Retry-After`` at once, before its body is read, instead
of piling up on disk and in the queue."""

from __future__ import annotations

import threading

from flask import Flask, g, request

from api.config import Config
from api.errors import ApiError

#: Requests that wait for their job (an analysis, or a comparison, which
#: counts as one: its two videos run on the pool one after the other), as
#: (method, path).
ANALYSES = {("POST", "/analyze"), ("POST", "/compare")}
#: Requests that upload a video to analyze, counted by the rate limit.
UPLOADS = ANALYSES | {("POST", "/analyses"), ("POST", "/comparisons")}
#: Seconds a client is told to wait before trying again.
RETRY_AFTER_S = 5


class BusyError(ApiError):
    """Every analysis slot is taken."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "busy",
            "the service is busy with other analyses; try again shortly",
            {"Retry-After": str(RETRY_AFTER_S)},
        )


def init_app(app: Flask, config: Config) -> None:
    """Admit at most ``config.max_pending`` analyses at once (gevent makes
    the semaphore cooperative)."""
    slots = threading.BoundedSemaphore(config.max_pending)

    @app.before_request
    def admit() -> None:
        if (request.method, request.path) in ANALYSES:
            if not slots.acquire(blocking=False):
                raise BusyError()
            g.admitted = True

    @app.teardown_request
    def release(_exc: BaseException | None) -> None:
        if g.pop("admitted", False):
            slots.release()
