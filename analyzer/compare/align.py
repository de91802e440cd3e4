"""Time alignment: dynamic time warping of the two resampled sequences, and
the timing read off its path.

DTW is dtaidistance's C implementation (``dtw_ndim.warping_path``), with a
Sakoe-Chiba band: a frame may be matched only to frames within ``window``
samples of the diagonal (dtaidistance widens the band by the difference in
length, so that both corners are reachable). The band allows a tempo
difference of ``MAX_TEMPO_DIFFERENCE`` over the whole clip plus a start
offset of ``MAX_OFFSET_MS``. The frame distance is the squared Euclidean
distance of the bone directions (dtaidistance's default), which is
``2 - 2 cos(angle)`` summed over bones; a missing bone is a zero vector, at
the same distance 1 from every direction, so it does not pull the path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from dtaidistance import dtw_ndim

#: Largest tempo difference the band allows, as a fraction of the shorter
#: sequence (issue 17: 25%).
MAX_TEMPO_DIFFERENCE = 0.25
#: Largest start offset the band allows beyond the tempo difference, in ms
#: (issue 17: "a few seconds").
MAX_OFFSET_MS = 3000.0


@dataclass(frozen=True)
class Alignment:
    """Which performance sample each reference sample is matched to.

    Attributes:
        path: ``(p, 2) int64`` pairs ``(reference index, performance index)``
            of the DTW path, from ``(0, 0)`` to both last samples, each index
            non-decreasing.
        matched: ``(n,) float64`` for each reference sample, the median
            performance index matched to it (a fractional index where two
            are).
        offset_ms: performance time at reference time 0 of the straight
            line fitted to ``matched`` (performance minus reference).
        tempo_ratio: reference duration per performance duration of that
            line: 1.25 is a performance 25% faster, 0.8 one 20% slower.
        lag_ms: ``(n,) float64`` for each reference sample, matched
            performance time minus the fitted line: positive where the
            performance is late against its own offset and tempo.
    """

    path: np.ndarray
    matched: np.ndarray
    offset_ms: float
    tempo_ratio: float
    lag_ms: np.ndarray


def band_width(reference_samples: int, performance_samples: int, rate_hz: float) -> int:
    """The Sakoe-Chiba window in samples (see the module's docstring)."""
    shorter = min(reference_samples, performance_samples)
    return math.ceil(MAX_TEMPO_DIFFERENCE * shorter + MAX_OFFSET_MS * rate_hz / 1000.0) + 1


def align(reference: np.ndarray, performance: np.ndarray, rate_hz: float) -> Alignment:
    """Align two resampled sequences of bone directions.

    Args:
        reference: ``(n, bones, 2) float64``, NaN where missing.
        performance: ``(m, bones, 2) float64``, NaN where missing.
        rate_hz: their common sample rate.

    Returns:
        The alignment; times in ms from each sequence's first sample.
    """
    first = np.nan_to_num(reference.reshape(len(reference), -1), nan=0.0)
    second = np.nan_to_num(performance.reshape(len(performance), -1), nan=0.0)
    window = band_width(len(first), len(second), rate_hz)
    path = np.asarray(
        dtw_ndim.warping_path(
            np.ascontiguousarray(first), np.ascontiguousarray(second), window=window, use_c=True
        ),
        dtype=np.int64,
    )
    # The path is monotone, so each reference index's matches are one run
    # of consecutive performance indices: its median is its midpoint.
    starts = np.flatnonzero(np.r_[True, np.diff(path[:, 0]) > 0])
    matched = (np.minimum.reduceat(path[:, 1], starts) + np.maximum.reduceat(path[:, 1], starts)) / 2.0
    step_ms = 1000.0 / rate_hz
    slope, intercept = _fit_line(np.arange(len(matched)) * step_ms, matched * step_ms)
    lag = matched * step_ms - (slope * np.arange(len(matched)) * step_ms + intercept)
    return Alignment(
        path=path, matched=matched, offset_ms=float(intercept), tempo_ratio=float(1.0 / slope), lag_ms=lag
    )


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line ``y = slope * x + intercept``, fitted again without
    the points more than 3 median absolute deviations off the first fit (the
    flat runs where one side holds still while the other starts or ends).

    Returns:
        ``(slope, intercept)``, the slope above 0: when a fit is not (a
        performance that barely moves along the path), the line from the
        first point to the last, and slope 1 when that is flat too.
    """
    if len(x) < 2:
        return 1.0, float(y[0]) if len(y) else 0.0
    slope, intercept = np.polyfit(x, y, 1)
    residual = np.abs(y - (slope * x + intercept))
    keep = residual <= 3.0 * max(float(np.median(residual)), 1e-9) * 1.4826
    if keep.sum() >= 2 and not keep.all():
        refit = np.polyfit(x[keep], y[keep], 1)
        if refit[0] > 0:
            slope, intercept = refit
    if slope <= 0:
        slope = (y[-1] - y[0]) / (x[-1] - x[0]) if y[-1] > y[0] else 1.0
        intercept = y[0] - slope * x[0]
    return float(slope), float(intercept)
