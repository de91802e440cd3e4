"""Progress of running analyses, by a client-chosen ``progress_id``, and
``GET /progress/{progress_id}``.

The board lives in the memory of the one gunicorn worker process that
serves every request, so a poll finds an analysis that this process runs;
behind a load balancer with several tasks, a poll may reach another task
and get a 404 (the web page then shows an analysis without a count).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify

from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, responses, spec
from api.schemas import ProgressResponse

bp = Blueprint("progress", __name__)


@dataclass
class Progress:
    """How far one analysis is.

    Attributes:
        stage: ``analyzing``, then ``rendering`` (``annotate=1``).
        frames_done: frames analyzed so far.
        frames_total: frames expected (container's claim), ``None`` if unknown.
    """

    stage: str
    frames_done: int
    frames_total: int | None

    def update(self, frames_done: int) -> None:
        """Progress callback of ``analyze_video``."""
        self.frames_done = frames_done


class ProgressBoard:
    """The analyses running in this process, by progress id.

    Args:
        limit: most analyses tracked at once; beyond it (or under an id
            already in use) an analysis runs untracked.
    """

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._running: dict[str, Progress] = {}
        self._lock = threading.Lock()

    @contextmanager
    def track(self, progress_id: str | None, frames_total: int | None) -> Iterator[Progress]:
        """Report an analysis under ``progress_id`` (``None``: untracked)
        until the block ends."""
        progress = Progress("analyzing", 0, frames_total)
        with self._lock:
            tracked = (
                progress_id is not None
                and progress_id not in self._running
                and len(self._running) < self.limit
            )
            if tracked:
                self._running[progress_id] = progress
        try:
            yield progress
        finally:
            if tracked:
                with self._lock:
                    del self._running[progress_id]

    def get(self, progress_id: str) -> Progress | None:
        """The progress of a running analysis, or ``None``."""
        with self._lock:
            return self._running.get(progress_id)


@bp.get("/progress/<progress_id>")
@spec.validate(
    resp=responses(
        ProgressResponse,
        HTTP_401=UNAUTHORIZED,
        HTTP_404="`not_found`: no analysis runs under this id here (not yet, or done).",
    ),
    tags=["analysis"],
    operation_id="progress",
    security=API_KEY,
)
def progress(progress_id: str) -> Response:
    """How far a running analysis is.

    Poll it (about once a second) while ``POST /analyze`` with the same
    ``progress_id`` runs.
    """
    found = current_app.extensions["dancepose.progress"].get(progress_id)
    if found is None:
        raise ApiError(404, "not_found", "no analysis is running under this progress id")
    return jsonify(vars(found))
