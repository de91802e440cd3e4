"""One analysis, end to end: video file -> ``AnalysisResult``.

The landmarks come from a ``LandmarkPool`` (worker processes). A video long
enough is split into consecutive frame ranges, one per worker, each started
``WARMUP_MS`` early so that the landmarker's tracking has settled at the
boundary, and the ranges are joined in order. A worker reaches its range by
seeking, which OpenCV does by timestamp, while frame indices count frames in
decode order; the two can differ (variable frame rate, missing frames), so
the frames both neighbours analyze around each boundary are compared by
fingerprint, and a range that landed elsewhere is run again from frame 0.
Everything after the landmarks (detector scores, smoothing, segments,
summary) is vectorized numpy over all frames and costs milliseconds, so it
runs in the calling process, even on a gevent event loop.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from analyzer.landmarks.blazepose import to_pixels
from analyzer.landmarks.model import ModelInfo
from analyzer.landmarks.pool import LandmarkPool
from analyzer.landmarks.tasks import LandmarkRun, LandmarkTask
from analyzer.options import AnalysisOptions
from analyzer.poses.detectors import Detector, get_detectors
from analyzer.poses.segments import find_segments
from analyzer.poses.smoothing import hysteresis, smooth
from analyzer.results import AnalysisResult, FrameDetail, PoseSummary, VideoInfo
from analyzer.video import VideoLimits, is_sampled, probe, sniff

log = logging.getLogger(__name__)

#: Fewest declared frames per range worth a worker of its own. A range
#: after the first pays for its warm-up (``WARMUP_MS`` of frames) and a seek
#: (0.1-0.6 s on the shared clips, up to 1.7 s on a long-GOP HEVC one): a
#: 120-frame video at 30 fps split in two leaves 75 frames and a seek to the
#: slower worker instead of 120 frames, about a third less time, and a
#: shorter one gains little.
MIN_CHUNK_FRAMES = 60
#: How far before its range each worker starts, in ms of video. The
#: landmarker re-detects the person on its first frame and tracks from there;
#: with this warm-up, tests/test_parallel.py finds the landmarks of the first
#: frames after a boundary within 3% of the frame of the sequential run's,
#: and the per-frame decisions equal on at least 98% of frames.
WARMUP_MS = 500.0


def plan_tasks(
    path: str | Path, workers: int, sample_fps: float | None, limits: VideoLimits | None = None
) -> list[LandmarkTask]:
    """Split a video into up to ``workers`` consecutive frame ranges.

    The split uses the container's declared frame count; the last range reads
    to the real end, so a wrong count costs balance, never frames.

    Raises:
        UndecodableVideoError: the file cannot be opened.
        VideoTooLargeError: the declared size or length is past ``limits``.
    """
    info = probe(path)
    if limits is not None:
        limits.check_declared(info)
    chunks = min(workers, info.frame_count // MIN_CHUNK_FRAMES)
    if chunks <= 1:
        return [LandmarkTask(str(path), sample_fps=sample_fps, limits=limits)]
    bounds = [round(i * info.frame_count / chunks) for i in range(chunks + 1)]
    warmup = math.ceil(WARMUP_MS * info.fps / 1000.0)

    def checkable(start: int) -> bool:
        """Whether the warm-up before ``start`` analyzes a frame, one that
        the previous range also analyzes, so that a seek can be checked."""
        return any(is_sampled(k, info.fps, sample_fps) for k in range(max(0, start - warmup), start))

    return [
        LandmarkTask(
            str(path),
            start,
            stop if i < chunks - 1 else None,
            warmup_frames=warmup if i else 0,
            sample_fps=sample_fps,
            limits=limits,
            seek=i > 0 and checkable(start),
            check_frames=tuple(
                (edge - warmup, edge) for edge, at in ((start, i > 0), (stop, i < chunks - 1)) if at
            ),
        )
        for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]


def same_frames(before: LandmarkRun, after: LandmarkRun) -> bool:
    """Whether two runs of neighbouring ranges analyzed the same frames under
    the same indices where they overlap: at least one frame in common, and
    equal fingerprints for every one."""
    common = before.fingerprints.keys() & after.fingerprints.keys()
    return bool(common) and all(before.fingerprints[i] == after.fingerprints[i] for i in common)


def run_tasks(
    pool: LandmarkPool,
    tasks: list[LandmarkTask],
    *,
    timeout_s: float | None,
    wait_s: float | None,
    on_progress: Callable[[int], None] | None,
    cancel: threading.Event | None = None,
) -> LandmarkRun:
    """Run tasks on the pool concurrently and join their runs in order
    (``cancel``: see ``LandmarkPool.run``).

    Raises:
        The first error any task raised (see ``LandmarkPool.run``).
    """
    if len(tasks) == 1:
        return pool.run(tasks[0], timeout_s=timeout_s, wait_s=wait_s, on_progress=on_progress, cancel=cancel)
    done = [0] * len(tasks)
    runs: list[LandmarkRun | None] = [None] * len(tasks)
    errors: list[BaseException | None] = [None] * len(tasks)
    lock = threading.Lock()

    def work(i: int) -> None:
        def progress(frames: int) -> None:
            with lock:
                done[i] = frames
                total = sum(done)
            if on_progress is not None:
                on_progress(total)

        try:
            runs[i] = pool.run(
                tasks[i], timeout_s=timeout_s, wait_s=wait_s, on_progress=progress, cancel=cancel
            )
        except BaseException as exc:  # re-raised in the caller
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i,), name=f"chunk-{i}") for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    for i in range(1, len(tasks)):
        if tasks[i].seek and not same_frames(runs[i - 1], runs[i]):  # type: ignore[arg-type]
            log.warning("seeking to frame %d missed; decoding from frame 0", tasks[i].start_frame)
            retry = dataclasses.replace(tasks[i], seek=False)
            runs[i] = pool.run(retry, timeout_s=timeout_s, wait_s=wait_s, on_progress=None, cancel=cancel)
    return LandmarkRun.concatenate(runs)  # type: ignore[arg-type]


def analyze_video(
    path: str | Path,
    pool: LandmarkPool,
    options: AnalysisOptions | None = None,
    *,
    filename: str | None = None,
    timeout_s: float | None = None,
    wait_s: float | None = None,
    limits: VideoLimits | None = None,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> AnalysisResult:
    """Analyze one video file.

    Args:
        path: local video file.
        pool: landmark workers to run on.
        options: what to detect and how (defaults: every pose, every frame).
        filename: name to report (default: the file's own name).
        timeout_s: time limit of each worker's share, in seconds.
        wait_s: how long to wait for a free worker, in seconds.
        limits: largest video accepted (checked on the container, then while decoding).
        on_progress: called with the number of frames analyzed so far.
        cancel: when set, the analysis stops and its landmark processes are
            killed within ``analyzer.landmarks.pool.CANCEL_CHECK_S``.

    Raises:
        AnalysisCanceledError: ``cancel`` was set.
        UnknownPoseError: ``options.poses`` names an unregistered pose.
        PoseDefinitionError: a custom pose reuses a registered name.
        NotAVideoError: the content is not a video container.
        UndecodableVideoError: no frame decodes.
        VideoTooLargeError: the video is past ``limits``.
        PoolBusyError, AnalysisTimeoutError, WorkerCrashedError,
        ModelUnavailableError: see ``LandmarkPool.run``.
    """
    started = time.perf_counter()
    options = options or AnalysisOptions()
    detectors = get_detectors(options.poses, extra=options.custom_poses)
    sniff(path)
    tasks = plan_tasks(path, pool.size, options.sample_fps, limits)
    run = run_tasks(pool, tasks, timeout_s=timeout_s, wait_s=wait_s, on_progress=on_progress, cancel=cancel)
    return build_result(
        run, detectors, options, pool.model, filename=filename or Path(path).name, started=started
    )


def score_frames(run: LandmarkRun, detectors: list[Detector]) -> dict[str, np.ndarray]:
    """Each detector's ``(n,)`` scores over the run's frames (NaN: cannot judge)."""
    pixels = to_pixels(run.landmarks, run.width, run.height, run.world_landmarks)
    return {detector.name: np.asarray(detector.score(pixels), dtype=np.float64) for detector in detectors}


def frame_shares_ms(timestamps_ms: np.ndarray, frame_ms: float, video_ms: float) -> np.ndarray:
    """The time each analyzed frame stands for, in ms: ``frame_ms`` (one
    frame, or ``1 / sample_fps`` with sampling), cut at the video's end so
    that durations never add up past ``video_ms``.

    Args:
        timestamps_ms: ``(n,) float`` timestamps of the analyzed frames, in ms.
        frame_ms: the interval between analyzed frames, in ms.
        video_ms: the video's length (frames read / fps), in ms.

    Returns:
        ``(n,) float64`` shares in ms, each in ``[0, frame_ms]``.
    """
    return np.clip(video_ms - np.asarray(timestamps_ms, dtype=np.float64), 0.0, frame_ms)


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
    detected frames, segments and summary. With sampling, each analyzed frame
    stands for the ``1 / sample_fps`` seconds until the next one, and never
    past the video's end (``frame_shares_ms``)."""
    n = run.frame_count
    frame_ms = 1000.0 / min(run.fps, options.sample_fps or run.fps)
    shares_ms = frame_shares_ms(run.timestamps_ms, frame_ms, run.frames_read * 1000.0 / run.fps)
    scores = score_frames(run, detectors)
    detected: dict[str, list[int]] = {}
    summary: list[PoseSummary] = []
    segments = []
    for name, raw in scores.items():
        decisions = hysteresis(
            smooth(raw, run.timestamps_ms, options.smoothing_ms), options.enter_score, options.exit_score
        )
        detected[name] = run.frame_indices[decisions].tolist()
        count = int(decisions.sum())
        summary.append(
            PoseSummary(
                pose=name,
                frames_detected=count,
                duration_s=round(float(shares_ms[decisions].sum()) / 1000.0, 2),
                ratio=round(count / n, 3) if n else 0.0,
            )
        )
        segments += find_segments(
            name, decisions, run.frame_indices, run.timestamps_ms, frame_ms, options.min_segment_ms
        )
    segments.sort(key=lambda segment: (segment.start_frame, segment.pose))
    has_person = ~np.isnan(run.landmarks[:, 0, 0])
    frames = None
    if options.include_frames:
        frames = [
            FrameDetail(
                frame_index=int(run.frame_indices[i]),
                timestamp_ms=float(run.timestamps_ms[i]),
                landmarks=run.landmarks[i] if has_person[i] else None,
                world_landmarks=run.world_landmarks[i] if has_person[i] else None,
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
            frame_count=run.frames_read,
            duration_s=run.frames_read / run.fps,
        ),
        model=model,
        total_frames=run.frames_read,
        processed_frames=n,
        frames_with_person=int(has_person.sum()),
        detected_poses=detected,
        pose_summary=summary,
        segments=segments,
        processing_s=time.perf_counter() - started,
        frames=frames,
    )
