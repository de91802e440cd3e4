"""A comparison of two landmark sequences, end to end: bone directions ->
common rate -> DTW, as recorded and mirrored -> scores, body parts,
segments, timing. Numpy and dtaidistance's C code only: two 60 s sequences
take well under a second (BENCHMARKS.md), so it runs in the calling process."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from analyzer.compare.align import Alignment, align
from analyzer.compare.errors import InsufficientPoseError
from analyzer.compare.features import bone_directions
from analyzer.compare.resample import RATE_HZ, resample
from analyzer.compare.result import ComparisonResult, Timing, VideoCoverage
from analyzer.compare.score import angle_errors, bone_scores, filter_errors, mean_score, part_scores
from analyzer.compare.segments import body_part_scores, score_segments
from analyzer.compare.sequence import PoseSequence

#: Least fraction of frames with a person for a video to be compared (issue
#: 17): below it, most of the clip would be left out of the score.
MIN_POSE_COVERAGE = 0.5
#: Reference time between two points of the reported alignment path, in ms:
#: ten a second is smooth enough for a player to follow.
PATH_STEP_MS = 100.0


@dataclass(frozen=True)
class _Candidate:
    """The performance compared one way (as recorded or mirrored)."""

    alignment: Alignment
    scores: np.ndarray
    score: float | None


def _candidate(reference: np.ndarray, performance: np.ndarray) -> _Candidate:
    alignment = align(reference, performance, RATE_HZ)
    errors = filter_errors(angle_errors(reference, performance, alignment.matched), RATE_HZ)
    scores = bone_scores(errors)
    return _Candidate(alignment, scores, mean_score(part_scores(scores)))


def _coverage(sequence: PoseSequence, filename: str) -> VideoCoverage:
    return VideoCoverage(
        filename=filename,
        width=sequence.width,
        height=sequence.height,
        duration_ms=float(sequence.timestamps_ms[-1] - sequence.timestamps_ms[0]),
        frames=sequence.frame_count,
        frames_with_person=sequence.frames_with_person,
        pose_coverage=sequence.pose_coverage,
    )


def check_coverage(sequence: PoseSequence, video: str, filename: str) -> np.ndarray:
    """Check that a video has enough pose to compare, and return its bone
    directions (``bone_directions``, as recorded).

    Args:
        sequence: the video's landmarks.
        video: ``"reference"`` or ``"performance"``, for the error.
        filename: the video's file name, for the error.

    Raises:
        InsufficientPoseError: a person in fewer than ``MIN_POSE_COVERAGE``
            of the frames, or no bone ever visible.
    """
    directions = bone_directions(sequence)
    if sequence.pose_coverage < MIN_POSE_COVERAGE:
        raise InsufficientPoseError(
            video,
            f"the {video} video ({filename}) has a person in {sequence.pose_coverage:.0%} of its frames; "
            f"at least {MIN_POSE_COVERAGE:.0%} are needed to compare",
        )
    if np.isnan(directions).all():
        raise InsufficientPoseError(
            video, f"the {video} video ({filename}) never shows a limb clearly enough"
        )
    return directions


def compare_sequences(
    reference: PoseSequence,
    performance: PoseSequence,
    *,
    reference_name: str = "reference",
    performance_name: str = "performance",
) -> ComparisonResult:
    """Compare a performance with the reference.

    Both are turned into unit bone directions (``analyzer.compare.features``),
    resampled to ``RATE_HZ`` (``analyzer.compare.resample``) and aligned with
    DTW (``analyzer.compare.align``); the performance is aligned as recorded
    and mirrored, and the better score is kept (as recorded on a tie). Scores
    are defined in ``analyzer.compare.score``.

    Args:
        reference: the teacher's landmarks.
        performance: the student's landmarks.
        reference_name: the reference's file name, for the result and messages.
        performance_name: the performance's file name.

    Returns:
        The result; ``processing_s`` is the time of this call.

    Raises:
        InsufficientPoseError: a video has a person in fewer than
            ``MIN_POSE_COVERAGE`` of its frames, or no bone ever visible;
            ``video`` says which (the reference is checked first).
    """
    started = time.perf_counter()
    reference_directions = check_coverage(reference, "reference", reference_name)
    performance_directions = check_coverage(performance, "performance", performance_name)
    first = resample(reference_directions, reference.timestamps_ms)
    as_recorded = _candidate(first, resample(performance_directions, performance.timestamps_ms))
    mirrored = _candidate(
        first, resample(bone_directions(performance, mirrored=True), performance.timestamps_ms)
    )
    is_mirrored = (mirrored.score or 0.0) > (as_recorded.score or 0.0)
    best = mirrored if is_mirrored else as_recorded
    step_ms = 1000.0 / RATE_HZ
    reference_start = float(reference.timestamps_ms[0])
    performance_start = float(performance.timestamps_ms[0])
    every = max(1, round(PATH_STEP_MS / step_ms))
    samples = np.arange(0, len(first), every)
    return ComparisonResult(
        score=best.score,
        mirrored=is_mirrored,
        timing=Timing(
            offset_ms=best.alignment.offset_ms + performance_start - reference_start,
            tempo_ratio=best.alignment.tempo_ratio,
            mean_abs_lag_ms=float(np.abs(best.alignment.lag_ms).mean()),
        ),
        body_parts=body_part_scores(best.scores),
        segments=score_segments(best.scores, best.alignment.lag_ms, RATE_HZ, reference_start),
        path=[
            (reference_start + i * step_ms, performance_start + float(best.alignment.matched[i]) * step_ms)
            for i in samples
        ],
        reference=_coverage(reference, reference_name),
        performance=_coverage(performance, performance_name),
        processing_s=time.perf_counter() - started,
    )
