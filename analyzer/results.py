"""Typed analysis results and their JSON form (the API contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzer.landmarks.model import ModelInfo
from analyzer.poses.segments import Segment


@dataclass(frozen=True)
class VideoInfo:
    """The analyzed video.

    Attributes:
        filename: the client's file name, for display only (never used as a path).
        width: upright frame width in pixels.
        height: upright frame height in pixels.
        fps: frame rate used for timestamps.
        frame_count: frames actually decoded (not the container's claim).
        duration_s: ``frame_count / fps`` in seconds.
    """

    filename: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float


@dataclass(frozen=True)
class PoseSummary:
    """How much of the video a pose was held.

    Attributes:
        pose: detector name.
        frames_detected: frames in which the pose was decided on.
        duration_s: seconds of video the detected frames stand for (one
            frame, or ``1 / sample_fps`` each), never past the video's end.
        ratio: ``frames_detected / processed_frames``, in [0, 1].
    """

    pose: str
    frames_detected: int
    duration_s: float
    ratio: float


@dataclass(frozen=True)
class FrameDetail:
    """Per-frame detail (``include=frames``).

    Attributes:
        frame_index: 0-based index in decode order.
        timestamp_ms: timestamp in ms.
        landmarks: ``(33, 4)`` x, y normalized [0, 1], z, visibility; ``None``
            when no person was found.
        world_landmarks: ``(33, 3)`` x, y, z in metres, origin at the hip
            midpoint (``analyzer.landmarks.blazepose``); ``None`` when no person was found.
        scores: each detector's raw score in [0, 1], ``None`` where it could not judge.
    """

    frame_index: int
    timestamp_ms: float
    landmarks: np.ndarray | None
    world_landmarks: np.ndarray | None
    scores: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """JSON form; landmark values rounded to 4 decimals."""
        return {
            "frame_index": self.frame_index,
            "timestamp_ms": round(self.timestamp_ms, 1),
            "landmarks": None
            if self.landmarks is None
            else np.round(self.landmarks.astype(np.float64), 4).tolist(),
            "world_landmarks": None
            if self.world_landmarks is None
            else np.round(self.world_landmarks.astype(np.float64), 4).tolist(),
            "scores": self.scores,
        }


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis found. ``to_dict`` gives the API's JSON.

    Attributes:
        video: the video analyzed.
        model: the pose model used.
        total_frames: frames decoded.
        processed_frames: frames run through the landmarker.
        frames_with_person: processed frames in which a person was found.
        detected_poses: pose -> frame indices where the smoothed decision is on;
            every requested pose is a key, with ``[]`` when never seen.
        pose_summary: one entry per requested pose.
        segments: held poses, ordered by start frame then pose.
        processing_s: wall time of the analysis in seconds.
        frames: per-frame detail, or ``None`` unless requested.
    """

    video: VideoInfo
    model: ModelInfo
    total_frames: int
    processed_frames: int
    frames_with_person: int
    detected_poses: dict[str, list[int]]
    pose_summary: list[PoseSummary]
    segments: list[Segment]
    processing_s: float
    frames: list[FrameDetail] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``POST /analyze`` and ``python -m analyzer``."""
        data: dict[str, Any] = {
            "video": {
                "filename": self.video.filename,
                "width": self.video.width,
                "height": self.video.height,
                "fps": round(self.video.fps, 3),
                "frame_count": self.video.frame_count,
                "duration_s": round(self.video.duration_s, 2),
            },
            "model": self.model.to_dict(),
            "total_frames": self.total_frames,
            "processed_frames": self.processed_frames,
            "frames_with_person": self.frames_with_person,
            "detected_poses": self.detected_poses,
            "pose_summary": [vars(summary) for summary in self.pose_summary],
            "segments": [vars(segment) for segment in self.segments],
            "processing_s": round(self.processing_s, 2),
        }
        if self.frames is not None:
            data["frames"] = [frame.to_dict() for frame in self.frames]
        return data
