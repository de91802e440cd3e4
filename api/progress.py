"""Progress of running analyses, by a client-chosen ``progress_id``, and
``GET /progress/{progress_id}``.

An analysis stays on the board as ``done`` for ``KEEP_DONE_S`` after it
ends, so that a poll sent while the answer is on its way finds it. The
board lives in the memory of the one gunicorn worker process that serves
every request, so a poll finds an analysis that this process runs;
behind a load balancer with several tasks, a poll may reach another task
and get a 404 (the web page then shows an analysis without a count).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify

from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, responses, spec
from api.schemas import ProgressResponse

bp = Blueprint("progress", __name__)

#: How long a finished analysis is still reported (as ``done``), in seconds.
KEEP_DONE_S = 60.0


@dataclass
class Progress:
    """How far one analysis is.

    Attributes:
        stage: ``analyzing``, then ``rendering`` (``annotate=1``), then
            ``done`` (whether it succeeded or failed).
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
    """The analyses running in this process, and those done in the last
    ``keep_done_s`` seconds, by progress id.

    Args:
        limit: most analyses tracked at once; beyond it (or under an id
            in use) an analysis runs untracked.
        keep_done_s: how long a finished analysis stays, in seconds.
    """

    def __init__(self, limit: int = 1000, keep_done_s: float = KEEP_DONE_S) -> None:
        self.limit, self.keep_done_s = limit, keep_done_s
        self._entries: dict[str, Progress] = {}
        self._done_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def _forget_old(self) -> None:
        """Drop analyses done more than ``keep_done_s`` ago (lock held)."""
        oldest = time.monotonic() - self.keep_done_s
        for progress_id in [key for key, at in self._done_at.items() if at < oldest]:
            del self._entries[progress_id], self._done_at[progress_id]

    @contextmanager
    def track(self, progress_id: str | None, frames_total: int | None) -> Iterator[Progress]:
        """Report an analysis under ``progress_id`` (``None``: untracked)
        until ``keep_done_s`` after the block ends."""
        progress = Progress("analyzing", 0, frames_total)
        with self._lock:
            self._forget_old()
            tracked = (
                progress_id is not None
                and progress_id not in self._entries
                and len(self._entries) < self.limit
            )
            if tracked:
                self._entries[progress_id] = progress
        try:
            yield progress
        finally:
            if tracked:
                with self._lock:
                    progress.stage = "done"
                    self._done_at[progress_id] = time.monotonic()

    def get(self, progress_id: str) -> Progress | None:
        """The progress of an analysis running or recently done, or ``None``."""
        with self._lock:
            self._forget_old()
            return self._entries.get(progress_id)


@bp.get("/progress/<progress_id>")
@spec.validate(
    resp=responses(
        ProgressResponse,
        HTTP_401=UNAUTHORIZED,
        HTTP_404="`not_found`: no analysis under this id here (not yet, or done over a minute ago).",
    ),
    tags=["analysis"],
    operation_id="progress",
    security=API_KEY,
)
def progress(progress_id: str) -> Response:
    """How far an analysis is.

    Poll it (about once a second) while ``POST /analyze`` with the same
    ``progress_id`` runs; it says ``done`` for a minute after.
    """
    found = current_app.extensions["dancepose.progress"].get(progress_id)
    if found is None:
        raise ApiError(404, "not_found", "no analysis runs or ran in the last minute under this progress id")
    return jsonify(vars(found))
