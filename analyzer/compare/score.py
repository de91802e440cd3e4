"""The score: how far each bone of the performance points from the
reference's, mapped to 0-100.

For each reference sample and each bone present on both sides, the angle
error is the angle in degrees between the reference's direction and the
direction of the performance sample matched to it (the median of its DTW
matches). Each bone's errors are median-filtered over ``FILTER_MS`` of
reference time, so that an error counts once it is held for half of that
(a student's real difference) and a landmark glitch of a frame or two (motion
blur, a limb crossing the body) does not. The filtered error falls linearly
from 100 at ``TOLERANCE_DEG`` or less to 0 at ``ZERO_SCORE_DEG`` or more:

    score(e) = 100 * clip((ZERO_SCORE_DEG - e) / (ZERO_SCORE_DEG - TOLERANCE_DEG), 0, 1)

A body part's score at a sample is the mean over its bones; a sample's score
is the mean over its body parts, each weighing alike (the torso's four bones
count as much as an arm's two); the clip's score is the mean over reference
samples (at the common rate, so a long clip and a short one, a 30 fps and a
60 fps video weigh alike) and so is a body part's. Bones missing on either
side (long gaps) are left out; a sample with no bone has no score.

The two constants and the filter were set on the shared hip-hop clip and its
ffmpeg variants (docs/compare.md has the table): with them the same dance
filmed or encoded differently scores 96-100 and two other clips 47-53.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.compare.features import BODY_PART_BONES

#: Errors up to this many degrees cost nothing: the tolerance the built-in
#: pose detectors allow around each of their angle thresholds (±10 degrees,
#: docs/poses.md), which also covers MediaPipe's jitter between encodings.
TOLERANCE_DEG = 10.0
#: Errors of this many degrees or more score 0: 20-30 degrees is what tells
#: one pose from another in the detectors' own terms (a T-pose arm within
#: 20 degrees of horizontal, an upright torso within 30 degrees of vertical,
#: docs/poses.md), so a bone 30 degrees off is in another pose.
ZERO_SCORE_DEG = 30.0
#: Window of the median filter over each bone's errors, in ms of reference
#: time: an error held under half of it (150 ms, a glitch of a few frames)
#: is dropped.
FILTER_MS = 300.0


def angle_errors(reference: np.ndarray, performance: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """Angle between each reference bone and the matched performance bone.

    Args:
        reference: ``(n, bones, 2) float64`` unit directions, NaN where missing.
        performance: ``(m, bones, 2) float64`` unit directions, NaN where missing.
        matched: ``(n,)`` performance index matched to each reference sample
            (fractional: rounded to the nearest sample).

    Returns:
        ``(n, bones) float64`` errors in degrees [0, 180]; NaN where either
        bone is missing.
    """
    other = performance[np.clip(np.rint(matched).astype(np.int64), 0, len(performance) - 1)]
    cosine = np.clip(np.sum(reference * other, axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(cosine))


def bone_scores(errors_deg: np.ndarray) -> np.ndarray:
    """Map angle errors in degrees to scores 0-100 (NaN stays NaN)."""
    span = ZERO_SCORE_DEG - TOLERANCE_DEG
    return 100.0 * np.clip((ZERO_SCORE_DEG - errors_deg) / span, 0.0, 1.0)


def filter_errors(errors_deg: np.ndarray, rate_hz: float) -> np.ndarray:
    """Median-filter each bone's errors over ``FILTER_MS`` (an odd number of
    samples, the edges repeated; NaN samples ignored, NaN where the whole
    window is).

    Args:
        errors_deg: ``(n, bones)`` errors in degrees, NaN where missing.
        rate_hz: their sample rate.

    Returns:
        A new ``(n, bones)`` array.
    """
    half = max(0, round(FILTER_MS * rate_hz / 1000.0) // 2)
    if half == 0 or len(errors_deg) == 0:
        return errors_deg.copy()
    padded = np.pad(errors_deg, ((half, half), (0, 0)), mode="edge")
    windows = sliding_window_view(padded, 2 * half + 1, axis=0)
    present = ~np.isnan(windows)
    filtered = np.full(errors_deg.shape, np.nan)
    any_present = present.any(axis=-1)
    filtered[any_present] = np.nanmedian(windows[any_present], axis=-1)
    return filtered


def part_scores(scores: np.ndarray) -> np.ndarray:
    """``(n, body parts)`` mean score of each body part's bones per sample, in
    ``BODY_PART_BONES`` order; NaN where the part has no bone.

    Args:
        scores: ``(n, bones)`` bone scores, NaN where missing.
    """
    columns = []
    for bones in BODY_PART_BONES.values():
        part = scores[:, bones]
        count = (~np.isnan(part)).sum(axis=1)
        total = np.nansum(part, axis=1)
        columns.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    return np.stack(columns, axis=1)


def mean_score(scores: np.ndarray) -> float | None:
    """Mean over samples of the per-sample mean over the columns present
    (bones of one body part, or body parts).

    Args:
        scores: ``(n, columns)`` scores, NaN where missing.

    Returns:
        The score 0-100, or ``None`` when no sample has a value.
    """
    present = ~np.isnan(scores)
    has_value = present.any(axis=1)
    if not has_value.any():
        return None
    per_sample = np.nansum(scores[has_value], axis=1) / present[has_value].sum(axis=1)
    return float(per_sample.mean())
