"""A comparison job's work: the landmarks of both videos on the worker's
pool, their comparison (``analyzer.compare``), and the result JSON ``POST
/compare`` answers."""

from __future__ import annotations

from analyzer.compare.videos import compare_videos
from analyzer.errors import AnalysisCanceledError
from analyzer.video import VideoLimits, frames_to_analyze
from jobs.records import ComparisonSpec
from jobs.work import JobCanceled, Output, Run, json_body


def compare_job(run: Run) -> Output:
    """Compare the job's performance video with its reference video.

    Progress counts the frames of both videos analyzed so far, of the
    frames both containers declare (``frames_total``, set at submission).
    A reference with too little pose fails before the performance is
    analyzed (``compare_videos``).

    Raises:
        JobCanceled: the job was canceled (the landmark processes running
            it are killed within 0.1 s).
        InsufficientPoseError: a video has too little pose; names which.
        AnalyzerError: as ``compare_videos`` raises, the message naming the video.
    """
    spec = run.job.spec
    assert isinstance(spec, ComparisonSpec)
    reference, performance = (run.videos[role] for role in spec.ROLES)
    total = run.job.frames_total
    if total is None:
        counts = [frames_to_analyze(path, spec.sample_fps) for path in (reference, performance)]
        total = None if None in counts else sum(counts)
    run.progress("analyzing", 0, total, now=True)
    try:
        result = compare_videos(
            reference,
            performance,
            run.pool,
            names=(spec.reference_filename, spec.performance_filename),
            sample_fps=spec.sample_fps,
            include_frames=spec.include_frames,
            timeout_s=spec.timeout_s,
            wait_s=None,
            limits=VideoLimits(spec.max_duration_s, spec.max_frames, spec.max_pixels),
            on_progress=lambda frames_done: run.progress("analyzing", frames_done, total),
            cancel=run.canceled,
        )
    except AnalysisCanceledError:
        raise JobCanceled() from None
    run.progress("analyzing", result.reference.frames + result.performance.frames, total, now=True)
    return Output(json_body(result.to_dict()))
