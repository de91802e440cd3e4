"""What an annotated video draws on each frame: the skeleton and the poses
held, per analyzed frame (``analyzer.render.annotate`` renders it).

An overlay comes from an ``AnalysisResult`` (in the server, without turning
landmarks into JSON) or from an analysis's JSON (``include=frames``), and
travels to the rendering process as an ``.npz`` file (no pickle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.landmarks.blazepose import NUM_LANDMARKS
from analyzer.results import AnalysisResult

#: Label of a frame in which no pose is held.
NO_POSE = "no pose"


@dataclass(frozen=True)
class Overlay:
    """What to draw, per analyzed frame.

    Attributes:
        frame_indices: ``(n,) int64`` analyzed frame indices, ascending.
        landmarks: ``(n, 33, 4) float32`` as in the API (x, y normalized);
            NaN rows where no person was found.
        labels: per analyzed frame, the poses held (``"arms_up, standing"``)
            or ``NO_POSE``.
    """

    frame_indices: np.ndarray
    landmarks: np.ndarray
    labels: tuple[str, ...]

    def at(self, index: int) -> tuple[np.ndarray, str] | None:
        """Landmarks and label shown on frame ``index``: those of the last
        analyzed frame at or before it; ``None`` before the first."""
        position = int(np.searchsorted(self.frame_indices, index, side="right")) - 1
        if position < 0:
            return None
        return self.landmarks[position], self.labels[position]

    def save(self, path: str | Path) -> None:
        """Write to an ``.npz`` file."""
        np.savez(
            path, frame_indices=self.frame_indices, landmarks=self.landmarks, labels=np.array(self.labels)
        )

    @classmethod
    def load(cls, path: str | Path) -> Overlay:
        """Read what ``save`` wrote (no pickle involved)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["frame_indices"], data["landmarks"], tuple(str(label) for label in data["labels"])
            )


def _labels(indices: Iterable[int], detected: Mapping[str, Iterable[int]]) -> tuple[str, ...]:
    held = {pose: set(frames) for pose, frames in detected.items()}
    return tuple(
        ", ".join(sorted(pose for pose, frames in held.items() if index in frames)) or NO_POSE
        for index in indices
    )


def overlay_from_result(result: AnalysisResult) -> Overlay:
    """The overlay of an analysis made with ``include_frames``.

    Raises:
        ValueError: the result has no frames.
    """
    if result.frames is None:
        raise ValueError("the analysis has no frames; make it with include_frames")
    nan = np.full((NUM_LANDMARKS, 4), np.nan, dtype=np.float32)
    indices = [frame.frame_index for frame in result.frames]
    return Overlay(
        frame_indices=np.array(indices, dtype=np.int64),
        landmarks=np.array(
            [nan if frame.landmarks is None else frame.landmarks for frame in result.frames], dtype=np.float32
        ).reshape(len(indices), NUM_LANDMARKS, 4),
        labels=_labels(indices, result.detected_poses),
    )


def overlay_from_analysis(analysis: dict[str, Any]) -> Overlay:
    """The overlay of an analysis's JSON.

    Raises:
        ValueError: the analysis has no ``frames`` (made without ``include=frames``).
    """
    frames = analysis.get("frames")
    if frames is None:
        raise ValueError("the analysis has no 'frames'; make it with include=frames")
    nan = np.full((NUM_LANDMARKS, 4), np.nan, dtype=np.float32)
    indices = [frame["frame_index"] for frame in frames]
    return Overlay(
        frame_indices=np.array(indices, dtype=np.int64),
        landmarks=np.array(
            [nan if frame["landmarks"] is None else frame["landmarks"] for frame in frames], dtype=np.float32
        ).reshape(len(indices), NUM_LANDMARKS, 4),
        labels=_labels(indices, analysis["detected_poses"]),
    )
