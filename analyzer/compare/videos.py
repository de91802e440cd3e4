"""A comparison of two video files: the landmarks of each on the pool, then
``compare_sequences``."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.compare.engine import check_coverage, compare_sequences
from analyzer.compare.result import ComparisonResult
from analyzer.compare.sequence import PoseSequence
from analyzer.errors import AnalyzerError
from analyzer.landmarks import LandmarkPool, LandmarkRun
from analyzer.pipeline import plan_tasks, run_tasks
from analyzer.video import VideoLimits, sniff

#: The two videos of a comparison, in the order they are analyzed.
ROLES = ("reference", "performance")


def sequence_of(run: LandmarkRun) -> PoseSequence:
    """The pose sequence of a landmark run (the same arrays, not copies)."""
    return PoseSequence(run.timestamps_ms, run.landmarks, run.width, run.height)


def frames_of(run: LandmarkRun) -> list[dict[str, Any]]:
    """Per-frame ``frame_index``, ``timestamp_ms`` and ``landmarks`` (33 rows
    ``[x, y, z, visibility]``, x and y normalized [0, 1], rounded to 4
    decimals; ``None`` without a person), for drawing skeletons."""
    has_person = ~np.isnan(run.landmarks[:, 0, 0])
    rounded = np.round(run.landmarks.astype(np.float64), 4)
    return [
        {
            "frame_index": int(run.frame_indices[i]),
            "timestamp_ms": round(float(run.timestamps_ms[i]), 1),
            "landmarks": rounded[i].tolist() if has_person[i] else None,
        }
        for i in range(run.frame_count)
    ]


def landmarks_of(
    path: str | Path,
    role: str,
    pool: LandmarkPool,
    *,
    sample_fps: float | None,
    timeout_s: float | None,
    wait_s: float | None,
    limits: VideoLimits | None,
    on_progress: Callable[[int], None] | None,
    cancel: threading.Event | None = None,
) -> LandmarkRun:
    """The landmarks of one of the two videos, run on the pool as an analysis
    runs (``analyzer.pipeline``: split over the workers; ``cancel``: see
    ``LandmarkPool.run``).

    Raises:
        The analysis's errors (see ``analyzer.pipeline.analyze_video``), of
        the same class with the message prefixed by ``role``: ``"performance
        video: the uploaded file is empty"``.
    """
    try:
        sniff(path)
        tasks = plan_tasks(path, pool.size, sample_fps, limits)
        return run_tasks(
            pool, tasks, timeout_s=timeout_s, wait_s=wait_s, on_progress=on_progress, cancel=cancel
        )
    except AnalyzerError as exc:
        raise type(exc)(f"{role} video: {exc}") from None


def compare_videos(
    reference: str | Path,
    performance: str | Path,
    pool: LandmarkPool,
    *,
    names: tuple[str, str] | None = None,
    sample_fps: float | None = None,
    include_frames: bool = False,
    timeout_s: float | None = None,
    wait_s: float | None = None,
    limits: VideoLimits | None = None,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ComparisonResult:
    """Compare the performance video with the reference video.

    The two videos' landmarks are found one after the other, each split over
    the pool's workers as one analysis is, then compared
    (``analyzer.compare.engine.compare_sequences``). A reference with too
    little pose fails before the performance is analyzed.

    Args:
        reference: the teacher's video file.
        performance: the student's video file.
        pool: landmark workers.
        names: file names to report (default: the files' own names).
        sample_fps: analyze at most this many frames per second of each video.
        include_frames: add both videos' per-frame landmarks (``frames_of``).
        timeout_s: time limit of each worker's share, in seconds.
        wait_s: how long to wait for a free worker, in seconds.
        limits: largest video accepted, for each.
        on_progress: called with the frames of both videos analyzed so far.
        cancel: when set, the landmark processes running the comparison are
            killed within 0.1 s and ``AnalysisCanceledError`` is raised.

    Raises:
        InsufficientPoseError: a video has too little pose; names which.
        NotAVideoError, UndecodableVideoError, VideoTooLargeError,
        PoolBusyError, AnalysisTimeoutError, WorkerCrashedError,
        ModelUnavailableError, AnalysisCanceledError: as ``analyze_video``,
            the message naming the video.
    """
    started = time.perf_counter()
    paths = (reference, performance)
    names = names or (Path(reference).name, Path(performance).name)
    runs: list[LandmarkRun] = []
    for role, path in zip(ROLES, paths, strict=True):
        done_before = sum(run.frame_count for run in runs)

        def progress(frames: int, before: int = done_before) -> None:
            if on_progress is not None:
                on_progress(before + frames)

        runs.append(
            landmarks_of(
                path,
                role,
                pool,
                sample_fps=sample_fps,
                timeout_s=timeout_s,
                wait_s=wait_s,
                limits=limits,
                on_progress=progress,
                cancel=cancel,
            )
        )
        check_coverage(sequence_of(runs[-1]), role, names[len(runs) - 1])
    result = compare_sequences(
        sequence_of(runs[0]), sequence_of(runs[1]), reference_name=names[0], performance_name=names[1]
    )
    frames = {role: frames_of(run) for role, run in zip(ROLES, runs, strict=True)} if include_frames else None
    return dataclasses.replace(result, processing_s=time.perf_counter() - started, frames=frames)
