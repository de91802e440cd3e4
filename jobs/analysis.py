"""An analysis job's work: the analysis its spec asks for, on a local copy
of its upload, the annotated video if asked, and the result JSON ``POST
/analyze`` answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from analyzer import AnalysisOptions, AnalysisResult, LandmarkPool, analyze_video
from analyzer.errors import AnalysisCanceledError
from analyzer.poses import Detector, get_detectors
from analyzer.poses.definitions import parse_selection
from analyzer.video import VideoLimits, frames_to_analyze, sniff
from jobs.records import JobSpec
from jobs.work import JobCanceled, Output, Run, json_body


def selected_poses(poses: str | None) -> tuple[tuple[str, ...] | None, tuple[Detector, ...]]:
    """The pose names and the request's own detectors of a ``poses`` field
    (``analyzer.poses.definitions.parse_selection``), every name checked.

    Raises:
        PoseDefinitionError: the JSON of ``poses`` is not valid.
        UnknownPoseError: a name is neither available nor defined in ``poses``.
    """
    names, custom = parse_selection(poses, "poses")
    get_detectors(names, extra=custom)
    return names, custom


def analysis_options(spec: JobSpec) -> AnalysisOptions:
    """The analyzer's options for a spec; ``frames`` are kept for
    ``annotate`` too, which draws them.

    Raises:
        PoseDefinitionError: the JSON of ``poses`` is not valid.
        UnknownPoseError: a name is neither available nor defined in ``poses``.
    """
    defaults = AnalysisOptions()
    names, custom = selected_poses(spec.poses)
    return AnalysisOptions(
        poses=names,
        custom_poses=custom,
        include_frames=spec.include_frames or spec.annotate,
        smoothing_ms=defaults.smoothing_ms if spec.smoothing_ms is None else spec.smoothing_ms,
        min_segment_ms=defaults.min_segment_ms if spec.min_segment_ms is None else spec.min_segment_ms,
        sample_fps=spec.sample_fps,
    )


def video_limits(spec: JobSpec) -> VideoLimits:
    """The video limits in force for a spec."""
    return VideoLimits(spec.max_duration_s, spec.max_frames, spec.max_pixels)


def result_json(result: AnalysisResult, spec: JobSpec) -> bytes:
    """The result as ``POST /analyze`` answers it: ``frames`` only with
    ``include=frames``; serialized as Flask's ``jsonify`` does outside debug
    mode (compact separators, ASCII, a final newline, fields in order)."""
    return json_body((result if spec.include_frames else replace(result, frames=None)).to_dict())


def run_analysis(
    path: Path,
    spec: JobSpec,
    pool: LandmarkPool,
    *,
    canceled: threading.Event,
    on_progress: Callable[[int], None],
) -> AnalysisResult:
    """Analyze a job's video on ``pool``, waiting as long as it takes for
    free landmark workers (the job was admitted already).

    Cancellation: when ``canceled`` is set, the pool kills the landmark
    processes running the job within 0.1 s (their state is unknown) and
    frees their slots, which it refills on next use.

    Raises:
        JobCanceled: ``canceled`` was set.
        AnalyzerError: as ``analyzer.analyze_video`` raises.
    """
    try:
        return analyze_video(
            path,
            pool,
            analysis_options(spec),
            filename=spec.filename,
            timeout_s=spec.timeout_s,
            wait_s=None,
            limits=video_limits(spec),
            on_progress=on_progress,
            cancel=canceled,
        )
    except AnalysisCanceledError:
        raise JobCanceled() from None


def analyze_job(run: Run) -> Output:
    """An analysis job's work: sniff its upload (a direct upload, ``POST
    /uploads``, was never sniffed by the API), analyze it, render the
    annotated video if asked.

    Raises:
        JobCanceled: the job was canceled.
        AnalyzerError: as ``run_analysis`` and ``jobs.render.Renderer.render`` raise.
    """
    spec, path = run.job.spec, run.videos["video"]
    assert isinstance(spec, JobSpec)
    sniff(path)
    total = run.job.frames_total
    if total is None:
        total = frames_to_analyze(path, spec.sample_fps)
    run.progress("analyzing", 0, total, now=True)
    result = run_analysis(
        path,
        spec,
        run.pool,
        canceled=run.canceled,
        on_progress=lambda frames_done: run.progress("analyzing", frames_done, total),
    )
    stage = "rendering" if spec.annotate else "analyzing"
    run.progress(stage, result.processed_frames, total, now=True)  # the last count
    if not spec.annotate:
        return Output(result_json(result, spec))
    annotated_id, ttl = run.renderer.render(path, result, timeout_s=spec.timeout_s, canceled=run.canceled)
    return Output(result_json(result, spec), annotated_id, time.time() + ttl)
