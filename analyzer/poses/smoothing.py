"""From per-frame detector scores to stable per-frame decisions.

Scores are averaged over a centred window measured in milliseconds (not
frames: videos run from 10 to 60 fps), then thresholded with hysteresis.
The analysis is offline, so a centred window smooths without lag.
"""

from __future__ import annotations

import numpy as np


def smooth(scores: np.ndarray, timestamps_ms: np.ndarray, window_ms: float) -> np.ndarray:
    """Average each frame's score with the known scores within ``window_ms / 2``.

    Args:
        scores: ``(n,) float`` in [0, 1], NaN where the detector could not judge.
        timestamps_ms: ``(n,) float`` strictly increasing, in ms.
        window_ms: full width of the window in ms; 0 returns the scores as they are.

    Returns:
        ``(n,) float64`` smoothed scores; NaN where no frame in the window
        had a known score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if window_ms <= 0 or scores.size == 0:
        return scores.copy()
    known = ~np.isnan(scores)
    sums = np.concatenate([[0.0], np.cumsum(np.where(known, scores, 0.0))])
    counts = np.concatenate([[0], np.cumsum(known)])
    lo = np.searchsorted(timestamps_ms, timestamps_ms - window_ms / 2.0, side="left")
    hi = np.searchsorted(timestamps_ms, timestamps_ms + window_ms / 2.0, side="right")
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def hysteresis(smoothed: np.ndarray, enter: float, exit: float) -> np.ndarray:
    """Per-frame on/off decisions with separate enter and exit thresholds.

    Args:
        smoothed: ``(n,)`` scores; NaN counts as below ``exit``.
        enter: a pose that is off turns on at a score >= ``enter``.
        exit: a pose that is on turns off at a score < ``exit``.

    Returns:
        ``(n,) bool``.
    """
    decisions = np.zeros(len(smoothed), dtype=bool)
    on = False
    for i, score in enumerate(smoothed):
        if np.isnan(score):
            on = False
        elif on:
            on = score >= exit
        else:
            on = score >= enter
        decisions[i] = on
    return decisions
