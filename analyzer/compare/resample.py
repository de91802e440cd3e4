"""Both sequences on one clock: bone directions resampled by timestamp to a
common rate, whatever each video's frame rate (25, 30, 60 fps, variable)."""

from __future__ import annotations

import numpy as np

#: The common rate in Hz. 30 Hz keeps every pose of a 30 fps video and steps
#: of 33 ms, half the 67 ms the offset is checked to (issue 17); DTW's cost
#: grows with its square.
RATE_HZ = 30.0


def resample(directions: np.ndarray, timestamps_ms: np.ndarray, rate_hz: float = RATE_HZ) -> np.ndarray:
    """Resample unit directions to ``rate_hz`` from the first timestamp on.

    Each new sample interpolates linearly between the two frames around its
    time and is scaled back to unit length; it is missing (NaN) when either
    of them is missing.

    Args:
        directions: ``(n, bones, 2) float64``, NaN where missing.
        timestamps_ms: ``(n,) float64`` increasing, in ms.
        rate_hz: samples per second.

    Returns:
        ``(k, bones, 2) float64`` at times ``timestamps_ms[0] + i * 1000 / rate_hz``
        for ``i < k``, the last one at or before ``timestamps_ms[-1]``.
    """
    step = 1000.0 / rate_hz
    span = float(timestamps_ms[-1] - timestamps_ms[0])
    times = timestamps_ms[0] + np.arange(int(np.floor(span / step + 1e-9)) + 1) * step
    after = np.clip(np.searchsorted(timestamps_ms, times, side="right"), 1, max(1, len(timestamps_ms) - 1))
    before = after - 1
    if len(timestamps_ms) == 1:
        return directions[:1].copy()
    gap = timestamps_ms[after] - timestamps_ms[before]
    weight = np.clip((times - timestamps_ms[before]) / np.where(gap > 0, gap, 1.0), 0.0, 1.0)[:, None, None]
    mixed = (1.0 - weight) * directions[before] + weight * directions[after]
    norm = np.linalg.norm(mixed, axis=-1, keepdims=True)
    return mixed / np.where(norm > 0, norm, 1.0)
