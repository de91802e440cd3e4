"""The input of a comparison: one video's landmarks over time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PoseSequence:
    """The landmarks of one video's analyzed frames, in time order.

    Attributes:
        timestamps_ms: ``(n,) float64`` timestamp of each frame in ms,
            increasing.
        landmarks: ``(n, 33, 4) float32``, MediaPipe order, columns x, y
            normalized [0, 1] of the frame, z, visibility [0, 1]; a row of NaN
            where no person was found (as ``LandmarkRun.landmarks``).
        width: frame width in pixels.
        height: frame height in pixels.

    Raises:
        ValueError: the shapes disagree, or there is no frame.
    """

    timestamps_ms: np.ndarray
    landmarks: np.ndarray
    width: int
    height: int

    def __post_init__(self) -> None:
        n = self.timestamps_ms.shape[0]
        if n == 0:
            raise ValueError("a pose sequence needs at least one frame")
        if self.landmarks.shape != (n, 33, 4):
            raise ValueError(f"landmarks must be ({n}, 33, 4), got {self.landmarks.shape}")

    @property
    def frame_count(self) -> int:
        """Number of frames."""
        return int(self.timestamps_ms.shape[0])

    @property
    def frames_with_person(self) -> int:
        """Frames in which a person was found."""
        return int((~np.isnan(self.landmarks[:, 0, 0])).sum())

    @property
    def pose_coverage(self) -> float:
        """Fraction of frames with a person, in [0, 1]."""
        return self.frames_with_person / self.frame_count
