"""Annotated videos over HTTP: rendering one for ``POST /analyze?annotate=1``
and ``GET /annotated/{video_id}.mp4``.

Rendering runs in a child process (``python -m analyzer.annotate``), at
most ``annotate_workers`` at a time, while the upload still exists: it takes
a core for seconds, and this process only waits on it (gevent's
``subprocess`` waits without blocking the event loop; PyAV is never
imported here). The finished MP4 goes to the ``AnnotatedStore``, which
deletes it after its time limit.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, send_file, url_for

from analyzer.errors import AnalysisTimeoutError, AnnotationError, PoolBusyError
from analyzer.render.overlay import Overlay
from api.annotated_store import AnnotatedStore
from api.config import Config
from api.errors import ApiError
from api.openapi import file_view

log = logging.getLogger("dancepose")
bp = Blueprint("annotated", __name__)


def render_in_subprocess(video: Path, overlay: Path, out: Path, *, timeout_s: float | None) -> None:
    """Run ``python -m analyzer.annotate VIDEO OVERLAY.npz OUT`` and wait for it.

    Raises:
        AnalysisTimeoutError: it ran past ``timeout_s`` seconds (it is killed).
        AnnotationError: it failed (its output is logged, not answered).
    """
    command = [sys.executable, "-m", "analyzer.annotate", str(video), str(overlay), str(out)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise AnalysisTimeoutError(
            f"rendering the annotated video took longer than its limit of {timeout_s:g} s"
        ) from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        log.warning("annotated video failed (exit %s): %s", done.returncode, output[-2000:])
        raise AnnotationError("the annotated video could not be rendered")


class Annotator:
    """Renders annotated videos, ``slots`` at a time, into a store.

    Args:
        store: where finished videos are kept.
        slots: renders allowed at once (each takes a core for seconds).
    """

    def __init__(self, store: AnnotatedStore, slots: int) -> None:
        self.store = store
        self._slots = threading.BoundedSemaphore(max(1, slots))

    @classmethod
    def from_config(cls, config: Config) -> Annotator:
        """The annotator the service's settings describe."""
        store = AnnotatedStore(
            config.annotated_dir,
            ttl_s=config.annotated_ttl_s,
            max_files=config.annotated_max_files,
            max_bytes=int(config.annotated_max_mb * 1024 * 1024),
        )
        return cls(store, config.annotate_workers)

    def render(
        self, video: Path, overlay: Overlay, *, timeout_s: float | None, wait_s: float | None
    ) -> tuple[str, float]:
        """Render the annotated MP4 of an analyzed video and store it.

        Args:
            video: the uploaded video; its directory (private to the request)
                holds the intermediate files.
            overlay: what to draw (``analyzer.render.overlay.overlay_from_result``).
            timeout_s: time limit of the rendering, in seconds.
            wait_s: how long to wait for a free render slot, in seconds.

        Returns:
            The stored video's id and its seconds to live.

        Raises:
            PoolBusyError: no render slot became free within ``wait_s``.
            AnalysisTimeoutError, AnnotationError: see ``render_in_subprocess``.
        """
        overlay_path = video.parent / "overlay.npz"
        overlay.save(overlay_path)
        out = video.parent / "annotated.mp4"
        if not self._slots.acquire(timeout=wait_s):
            raise PoolBusyError("every annotated-video renderer is busy; try again shortly")
        try:
            render_in_subprocess(video, overlay_path, out, timeout_s=timeout_s)
        finally:
            self._slots.release()
        return self.store.add(out)


def annotated_video_field(video_id: str, expires_in_s: float) -> dict[str, Any]:
    """The ``annotated_video`` field of the analysis response."""
    return {
        "id": video_id,
        "url": url_for("annotated.annotated_video", video_id=video_id),
        "expires_in_s": round(expires_in_s, 1),
    }


@bp.get("/annotated/<video_id>.mp4")
@file_view(
    "video/mp4",
    tags=["analysis"],
    operation_id="annotated_video",
    ranges=True,
    protected=False,
    parameters={"video_id": "The id in `annotated_video.url` of an analysis."},
    HTTP_404="`not_found`: unknown or expired id.",
)
def annotated_video(video_id: str) -> Response:
    """An annotated video (H.264 MP4), while it lasts.

    The URL comes from `annotated_video.url` of `POST /analyze` with
    `annotate=1`; the file is deleted after `ANNOTATED_TTL_S` (default
    15 min). Byte ranges are supported, so players can seek.
    """
    found = current_app.extensions["dancepose.annotator"].store.find(video_id)
    if found is None:
        raise ApiError(404, "not_found", "no annotated video under this id (unknown or expired)")
    path, left = found
    response = send_file(path, mimetype="video/mp4", conditional=True, max_age=int(left))
    response.headers["Cache-Control"] = f"private, max-age={int(left)}"
    return response
