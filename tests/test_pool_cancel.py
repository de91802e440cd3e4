"""Canceling an analysis on a real ``LandmarkPool``: its landmark processes
are killed at once, and the pool runs the next analysis on fresh ones."""

from __future__ import annotations

import os
import threading
import time

import pytest

from analyzer.errors import AnalysisCanceledError
from analyzer.landmarks.pool import LandmarkPool
from analyzer.pipeline import analyze_video
from tests.conftest import video
from tests.test_api import ARM_CIRCLES, HIPHOP, cmdline, is_alive, proc_children


def landmark_processes() -> set[int]:
    """This process's live landmark worker processes."""
    return {pid for pid in proc_children(os.getpid()) if "analyzer.landmarks.worker" in cmdline(pid)}


def test_cancel_kills_the_running_workers_and_the_pool_recovers(pool: LandmarkPool) -> None:
    cancel = threading.Event()
    progress: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            analyze_video(video(HIPHOP), pool, on_progress=progress.append, cancel=cancel)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not progress and time.monotonic() < deadline:
        time.sleep(0.05)
    assert progress, "the analysis never reported progress"
    busy = landmark_processes()
    assert busy
    cancel.set()
    canceled_at = time.monotonic()
    thread.join(10)
    stopped_in = time.monotonic() - canceled_at
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], AnalysisCanceledError), errors
    assert stopped_in < 1.0, f"canceling took {stopped_in:.2f} s"
    assert not any(is_alive(pid) for pid in busy)

    result = analyze_video(video(ARM_CIRCLES), pool)
    assert result.processed_frames == result.total_frames > 0
    assert not busy & landmark_processes()


def test_a_canceled_analysis_does_not_wait_for_a_worker(pool: LandmarkPool) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(AnalysisCanceledError):
        pool.run(None, cancel=cancel)  # type: ignore[arg-type]  # canceled before it needs a task
