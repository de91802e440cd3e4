"""Typed comparison results and their JSON form (the contract of
``POST /compare`` and ``python -m analyzer.compare``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Timing:
    """How the performance's time maps onto the reference's.

    Attributes:
        offset_ms: performance time minus reference time at the start of the
            reference, in ms (500: the performance starts half a second late).
        tempo_ratio: the performance's tempo over the reference's (1.25: 25%
            faster; 0.8: slower, taking 1.25 times as long).
        mean_abs_lag_ms: mean over reference time of how far the performance
            is ahead of or behind the line set by ``offset_ms`` and
            ``tempo_ratio``, in ms: uneven timing, not a constant delay.
    """

    offset_ms: float
    tempo_ratio: float
    mean_abs_lag_ms: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "offset_ms": round(self.offset_ms, 1),
            "tempo_ratio": round(self.tempo_ratio, 3),
            "mean_abs_lag_ms": round(self.mean_abs_lag_ms, 1),
        }


@dataclass(frozen=True)
class SegmentScore:
    """One stretch of the reference, about ``SEGMENT_MS`` long.

    Attributes:
        start_ms: start in reference time, in ms.
        end_ms: end in reference time, in ms (exclusive).
        score: 0-100 over the stretch; ``None`` when no bone could be compared.
        lag_ms: mean lag of the performance over the stretch, in ms (see
            ``Timing.mean_abs_lag_ms``; positive: behind).
        body_parts: body part -> score 0-100 (``None``: not compared).
        worst_body_parts: the (up to) two body parts scoring under 100 with
            the lowest score, lowest first (``[]``: all scored 100).
    """

    start_ms: float
    end_ms: float
    score: float | None
    lag_ms: float
    body_parts: dict[str, float | None]
    worst_body_parts: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "start_ms": round(self.start_ms, 1),
            "end_ms": round(self.end_ms, 1),
            "score": _round(self.score),
            "lag_ms": round(self.lag_ms, 1),
            "body_parts": {name: _round(value) for name, value in self.body_parts.items()},
            "worst_body_parts": self.worst_body_parts,
        }


@dataclass(frozen=True)
class VideoCoverage:
    """One of the two videos and how much pose it had.

    Attributes:
        filename: the client's file name, for display only.
        width: frame width in pixels.
        height: frame height in pixels.
        duration_ms: from the first analyzed frame to the last, in ms.
        frames: frames analyzed.
        frames_with_person: analyzed frames in which a person was found.
        pose_coverage: ``frames_with_person / frames``, in [0, 1].
    """

    filename: str
    width: int
    height: int
    duration_ms: float
    frames: int
    frames_with_person: int
    pose_coverage: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "filename": self.filename,
            "width": self.width,
            "height": self.height,
            "duration_ms": round(self.duration_ms, 1),
            "frames": self.frames,
            "frames_with_person": self.frames_with_person,
            "pose_coverage": round(self.pose_coverage, 3),
        }


@dataclass(frozen=True)
class ComparisonResult:
    """How close the performance is to the reference.

    Attributes:
        score: 0-100 (100: every bone within tolerance all along), see
            ``analyzer.compare.score``; ``None`` when no bone could be
            compared.
        mirrored: the performance was compared as its mirror image (it
            scored better so: a student facing the teacher).
        timing: offset, tempo and lag of the alignment.
        body_parts: ``left_arm``, ``right_arm``, ``left_leg``, ``right_leg``,
            ``torso`` -> score 0-100 (``None``: never compared).
        segments: consecutive stretches of the reference, in time order.
        path: the alignment, downsampled to one pair about every
            ``PATH_STEP_MS`` of reference time: ``(reference ms, performance
            ms)``, both non-decreasing, times from each video's first
            analyzed frame.
        reference: the reference video.
        performance: the performance video.
        processing_s: wall time of the comparison in seconds (the landmarks
            included when it started from videos).
        frames: per-video frame detail for drawing (``include=frames``):
            ``{"reference": [...], "performance": [...]}``, each frame as
            ``FrameDetail.to_dict`` gives it; ``None`` unless asked for.
    """

    score: float | None
    mirrored: bool
    timing: Timing
    body_parts: dict[str, float | None]
    segments: list[SegmentScore]
    path: list[tuple[float, float]]
    reference: VideoCoverage
    performance: VideoCoverage
    processing_s: float
    frames: dict[str, list[dict[str, Any]]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract."""
        data: dict[str, Any] = {
            "score": _round(self.score),
            "mirrored": self.mirrored,
            "timing": self.timing.to_dict(),
            "body_parts": {name: _round(value) for name, value in self.body_parts.items()},
            "segments": [segment.to_dict() for segment in self.segments],
            "path": [[round(a, 1), round(b, 1)] for a, b in self.path],
            "reference": self.reference.to_dict(),
            "performance": self.performance.to_dict(),
            "processing_s": round(self.processing_s, 2),
        }
        if self.frames is not None:
            data["frames"] = self.frames
        return data
