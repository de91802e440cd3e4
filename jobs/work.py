"""What the worker gives a job's work and what the work gives back, the
same for every kind of job (``jobs.analysis``, ``jobs.comparison``): the
worker leases, heartbeats, stores and finishes; the work only computes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer import LandmarkPool
from jobs.backends import JobStore
from jobs.records import Job

if TYPE_CHECKING:
    from jobs.render import Renderer

#: Least time between two progress writes of one job, in s.
PROGRESS_EVERY_S = 1.0


class JobCanceled(Exception):
    """The job was canceled while it ran: its work stops at once."""


@dataclass
class Run:
    """One run of a job, as its work sees it.

    Attributes:
        job: the job, as ``JobStore.start`` returned it.
        videos: local copies of its uploads for the run, by role
            (``Job.upload_objects``: ``video``; or ``reference`` and ``performance``).
        pool: the landmark workers.
        renderer: renders annotated videos.
        canceled: set when the job is canceled (or its lease lost): stop at once.
        store: where ``progress`` is written.
    """

    job: Job
    videos: dict[str, Path]
    pool: LandmarkPool
    renderer: Renderer
    canceled: threading.Event
    store: JobStore
    _written_at: float = field(default=float("-inf"), repr=False)

    def progress(self, stage: str, frames_done: int, frames_total: int | None, now: bool = False) -> None:
        """Record progress (``stage``, frames done of ``frames_total``), at
        most once every ``PROGRESS_EVERY_S`` unless ``now``."""
        if now or time.monotonic() - self._written_at >= PROGRESS_EVERY_S:
            self._written_at = time.monotonic()
            self.store.progress(self.job.id, stage, frames_done, frames_total)


@dataclass(frozen=True)
class Output:
    """What a succeeded run made.

    Attributes:
        result: the result JSON, byte for byte what the synchronous endpoint
            (``POST /analyze``, ``POST /compare``) answers.
        annotated_id, annotated_expires_at: the annotated video, if rendered
            (its id in the annotated store; when it is deleted, Unix time in s).
    """

    result: bytes
    annotated_id: str | None = None
    annotated_expires_at: float | None = None


def json_body(value: Any) -> bytes:
    """``value`` serialized as Flask's ``jsonify`` does outside debug mode
    (compact separators, ASCII, fields in order, a final newline), with no
    NaN or Infinity.

    Raises:
        ValueError: ``value`` holds a NaN or infinite float.
    """
    return (json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n").encode()
