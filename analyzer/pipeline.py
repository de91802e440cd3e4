"""One analysis, end to end: video file -> ``AnalysisResult``.

The landmarks come from a ``LandmarkPool`` (worker processes); everything
after them (detector scores, smoothing, segments, summary) is vectorized
numpy over all frames and costs milliseconds, so it can run in the calling
process, even on a gevent event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from analyzer.detectors import Detector, get_detectors
from analyzer.landmarker import LandmarkJob, LandmarkRun
from analyzer.landmarks import to_pixels
from analyzer.model import ModelInfo
from analyzer.options import AnalysisOptions
from analyzer.pool import LandmarkPool
from analyzer.results import AnalysisResult, FrameDetail, PoseSummary, VideoInfo
from analyzer.segments import find_segments
from analyzer.smoothing import hysteresis, smooth
from analyzer.video import sniff


def analyze_video(
    path: str | Path,
    pool: LandmarkPool,
    options: AnalysisOptions | None = None,
    *,
    filename: str | None = None,
    timeout_s: float | None = None,
    wait_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> AnalysisResult:
    """Analyze one video file.

    Args:
        path: local video file.
        pool: landmark workers to run on.
        options: what to detect and how (defaults: every pose).
        filename: name to report (default: the file's own name).
        timeout_s: time limit of the landmark run, in seconds.
        wait_s: how long to wait for a free worker, in seconds.
        on_progress: called with the number of frames processed so far.

    Raises:
        UnknownPoseError: ``options.poses`` names an unregistered pose.
        NotAVideoError: the content is not a video container.
        UndecodableVideoError: no frame decodes.
        PoolBusyError, AnalysisTimeoutError, WorkerCrashedError,
        ModelUnavailableError: see ``LandmarkPool.run``.
    """
    started = time.perf_counter()
    options = options or AnalysisOptions()
    detectors = get_detectors(options.poses)
    sniff(path)
    run = pool.run(LandmarkJob(str(path)), timeout_s=timeout_s, wait_s=wait_s, on_progress=on_progress)
    return build_result(
        run,
        detectors,
        options,
        pool.model,
        filename=filename or Path(path).name,
        started=started,
    )


def score_frames(run: LandmarkRun, detectors: list[Detector]) -> dict[str, np.ndarray]:
    """Each detector's ``(n,)`` scores over the run's frames (NaN: cannot judge)."""
    pixels = to_pixels(run.landmarks, run.width, run.height)
    return {detector.name: np.asarray(detector.score(pixels), dtype=np.float64) for detector in detectors}


def build_result(
    run: LandmarkRun,
    detectors: list[Detector],
    options: AnalysisOptions,
    model: ModelInfo,
    *,
    filename: str,
    started: float,
) -> AnalysisResult:
    """Turn a landmark run into the result: scores -> smoothed decisions ->
    detected frames, segments and summary."""
    n = run.frame_count
    frame_indices = np.arange(run.start_frame, run.start_frame + n)
    frame_ms = 1000.0 / run.fps
    scores = score_frames(run, detectors)
    detected: dict[str, list[int]] = {}
    summary: list[PoseSummary] = []
    segments = []
    for name, raw in scores.items():
        decisions = hysteresis(
            smooth(raw, run.timestamps_ms, options.smoothing_ms),
            options.enter_score,
            options.exit_score,
        )
        detected[name] = frame_indices[decisions].tolist()
        count = int(decisions.sum())
        summary.append(
            PoseSummary(
                pose=name,
                frames_detected=count,
                duration_s=round(count * frame_ms / 1000.0, 2),
                ratio=round(count / n, 3) if n else 0.0,
            )
        )
        segments += find_segments(
            name, decisions, frame_indices, run.timestamps_ms, frame_ms, options.min_segment_ms
        )
    segments.sort(key=lambda segment: (segment.start_frame, segment.pose))
    has_person = ~np.isnan(run.landmarks[:, 0, 0]) if n else np.zeros(0, dtype=bool)
    frames = None
    if options.include_frames:
        frames = [
            FrameDetail(
                frame_index=int(frame_indices[i]),
                timestamp_ms=float(run.timestamps_ms[i]),
                landmarks=run.landmarks[i] if has_person[i] else None,
                scores={
                    name: None if np.isnan(values[i]) else round(float(values[i]), 3)
                    for name, values in scores.items()
                },
            )
            for i in range(n)
        ]
    return AnalysisResult(
        video=VideoInfo(
            filename=filename,
            width=run.width,
            height=run.height,
            fps=run.fps,
            frame_count=n,
            duration_s=n * frame_ms / 1000.0,
        ),
        model=model,
        total_frames=n,
        processed_frames=n,
        frames_with_person=int(has_person.sum()),
        detected_poses=detected,
        pose_summary=summary,
        segments=segments,
        processing_s=time.perf_counter() - started,
        frames=frames,
    )
