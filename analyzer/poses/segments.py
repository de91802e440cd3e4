"""Segments (runs of held poses) from per-frame decisions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A run of consecutive frames in which a pose is held.

    Attributes:
        pose: detector name.
        start_frame: first frame index (inclusive).
        end_frame: last frame index (inclusive).
        start_ms: timestamp of ``start_frame`` in ms.
        end_ms: timestamp of ``end_frame`` in ms.
    """

    pose: str
    start_frame: int
    end_frame: int
    start_ms: int
    end_ms: int


def find_segments(
    pose: str,
    decisions: np.ndarray,
    frame_indices: np.ndarray,
    timestamps_ms: np.ndarray,
    frame_ms: float,
    min_duration_ms: float,
) -> list[Segment]:
    """Runs of consecutive ``True`` decisions that last at least ``min_duration_ms``.

    Args:
        pose: detector name for the segments.
        decisions: ``(n,) bool`` per processed frame.
        frame_indices: ``(n,) int`` frame index of each processed frame.
        timestamps_ms: ``(n,) float`` timestamp of each processed frame, in ms.
        frame_ms: time one processed frame stands for, in ms; a run's
            duration is ``end_ms - start_ms + frame_ms``.
        min_duration_ms: shortest run kept, in ms.

    Returns:
        Segments in time order.
    """
    padded = np.concatenate([[False], decisions, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    segments = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        end = stop - 1
        if timestamps_ms[end] - timestamps_ms[start] + frame_ms < min_duration_ms:
            continue
        segments.append(
            Segment(
                pose=pose,
                start_frame=int(frame_indices[start]),
                end_frame=int(frame_indices[end]),
                start_ms=int(round(timestamps_ms[start])),
                end_ms=int(round(timestamps_ms[end])),
            )
        )
    return segments
