"""Annotated videos for jobs with ``annotate=1``.

Rendering runs in a child process (``python -m analyzer.annotate``): it
takes a core for seconds, and the worker only waits on it, checking twice
a second whether the job was canceled or ran past its time limit (then
the child is killed). The finished MP4 goes to the ``AnnotatedStore``
(``ANNOTATED_DIR``), which deletes it after ``ANNOTATED_TTL_S``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from analyzer import AnalysisResult
from analyzer.errors import AnalysisTimeoutError, AnnotationError
from analyzer.render import overlay_from_result
from jobs.annotated_store import AnnotatedStore
from jobs.work import JobCanceled

log = logging.getLogger("jobs.render")

#: How often a rendering checks for cancellation, in s.
POLL_S = 0.5


class Renderer:
    """Renders annotated videos, ``slots`` at a time, into ``store``."""

    def __init__(self, store: AnnotatedStore, slots: int) -> None:
        self.store = store
        self._slots = threading.BoundedSemaphore(max(1, slots))

    def render(
        self, video: Path, result: AnalysisResult, *, timeout_s: float | None, canceled: threading.Event
    ) -> tuple[str, float]:
        """Render the annotated MP4 of an analyzed video and store it.

        Args:
            video: the analyzed video file.
            result: its analysis, with ``frames``.
            timeout_s: time limit of the rendering, in s.
            canceled: set when the job is canceled.

        Returns:
            The stored video's id and its seconds to live.

        Raises:
            JobCanceled: ``canceled`` was set.
            AnalysisTimeoutError: it ran past ``timeout_s`` (the child is killed).
            AnnotationError: it failed (its output is logged, not answered).
        """
        with tempfile.TemporaryDirectory(prefix="dancepose-render-") as work:
            overlay = Path(work) / "overlay.npz"
            overlay_from_result(result).save(overlay)
            out = Path(work) / "annotated.mp4"
            while not self._slots.acquire(timeout=POLL_S):
                if canceled.is_set():
                    raise JobCanceled()
            try:
                self._run(video, overlay, out, timeout_s=timeout_s, canceled=canceled)
            finally:
                self._slots.release()
            return self.store.add(out)

    @staticmethod
    def _run(
        video: Path, overlay: Path, out: Path, *, timeout_s: float | None, canceled: threading.Event
    ) -> None:
        command = [sys.executable, "-m", "analyzer.annotate", str(video), str(overlay), str(out)]
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with tempfile.TemporaryFile() as output:
            child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
            try:
                while True:
                    try:
                        child.wait(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        if canceled.is_set():
                            raise JobCanceled() from None
                        if deadline is not None and time.monotonic() > deadline:
                            raise AnalysisTimeoutError(
                                f"rendering the annotated video took longer than its limit of {timeout_s:g} s"
                            ) from None
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
            if child.returncode != 0:
                output.seek(0)
                text = output.read().decode(errors="replace")
                log.warning("annotated video failed (exit %s): %s", child.returncode, text[-2000:])
                raise AnnotationError("the annotated video could not be rendered")
