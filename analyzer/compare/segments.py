"""Where the performance diverges: the reference cut into stretches of about
``SEGMENT_MS``, each with its score, lag and worst body parts."""

from __future__ import annotations

import numpy as np

from analyzer.compare.features import BODY_PART_BONES
from analyzer.compare.result import SegmentScore
from analyzer.compare.score import mean_score, part_scores

#: Length of a segment in ms: 1.5 s is two to four beats at 80-160 bpm, one
#: dance count to correct. The last one takes the remainder when it is at
#: least half as long, else it is merged into the one before (0.75-2.25 s).
SEGMENT_MS = 1500.0


def segment_bounds(samples: int, rate_hz: float) -> list[tuple[int, int]]:
    """Cut ``samples`` reference samples into ``[start, stop)`` ranges of
    about ``SEGMENT_MS``."""
    length = max(1, round(SEGMENT_MS * rate_hz / 1000.0))
    starts = list(range(0, samples, length))
    if len(starts) > 1 and samples - starts[-1] < length / 2:
        starts.pop()
    return [(start, stop) for start, stop in zip(starts, starts[1:] + [samples], strict=True)]


def body_part_scores(scores: np.ndarray) -> dict[str, float | None]:
    """Body part -> mean score of its bones over the samples (see
    ``analyzer.compare.score.mean_score``), from ``(n, bones)`` bone scores."""
    return {name: mean_score(scores[:, bones]) for name, bones in BODY_PART_BONES.items()}


def score_segments(
    scores: np.ndarray, lag_ms: np.ndarray, rate_hz: float, start_ms: float = 0.0
) -> list[SegmentScore]:
    """Score each segment of the reference.

    Args:
        scores: ``(n, bones)`` bone scores 0-100 per reference sample, NaN
            where missing.
        lag_ms: ``(n,)`` lag per reference sample in ms.
        rate_hz: the sample rate.
        start_ms: reference time of the first sample, in ms.

    Returns:
        The segments in time order, covering every sample.
    """
    segments = []
    for start, stop in segment_bounds(len(scores), rate_hz):
        parts = body_part_scores(scores[start:stop])
        below = sorted((value, name) for name, value in parts.items() if value is not None and value < 100.0)
        segments.append(
            SegmentScore(
                start_ms=start_ms + start * 1000.0 / rate_hz,
                end_ms=start_ms + stop * 1000.0 / rate_hz,
                score=mean_score(part_scores(scores[start:stop])),
                lag_ms=float(lag_ms[start:stop].mean()),
                body_parts=parts,
                worst_body_parts=[name for _, name in below[:2]],
            )
        )
    return segments
