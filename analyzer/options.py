"""Options of one analysis, with their defaults and where they come from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.poses.detectors import Detector

#: Width of the centred window over which detector scores are averaged, in
#: ms. 50 ms averages each frame with its neighbours at 60 fps and above
#: (where single-frame landmark glitches are most frequent) and leaves 30 fps
#: and slower frames to the hysteresis alone. Wider windows erase poses that
#: are only passed through: the T of a jumping jack lasts about 50-70 ms, and
#: at 100 ms the labelled T-poses of the jumping-jack clip were all lost
#: (docs/accuracy.md).
DEFAULT_SMOOTHING_MS = 50.0
#: Hysteresis: a pose starts when its smoothed score reaches ``enter_score``
#: and ends when it falls below ``exit_score``. The detector hit threshold is
#: 0.5 (``analyzer.poses.detectors.HIT_SCORE``); the band around it keeps a pose held
#: near its threshold from flickering.
DEFAULT_ENTER_SCORE = 0.55
DEFAULT_EXIT_SCORE = 0.45
#: Shortest run of frames reported as a segment, in ms. Shorter runs stay in
#: ``detected_poses`` (a pose passed through) but are not a held pose.
DEFAULT_MIN_SEGMENT_MS = 100.0
#: Slowest sampling rate, in frames per second: one frame per 1000 s of
#: video. Any slower rate analyzes only the first frame of a video shorter
#: than 16 minutes (the service refuses videos past ``MAX_VIDEO_SECONDS``,
#: 10 minutes by default), so it would change nothing; and a floor keeps the
#: frame interval ``1 / sample_fps`` finite (``5e-324`` made it infinite).
MIN_SAMPLE_FPS = 0.001


@dataclass(frozen=True)
class AnalysisOptions:
    """What to detect and how to decide.

    Attributes:
        poses: detector names to run; ``None`` runs every registered one
            and every one of ``custom_poses``.
        include_frames: add per-frame detail (timestamp, landmarks, scores).
        smoothing_ms: centred averaging window of scores, in ms (0 = none).
        enter_score: smoothed score at which a pose starts, in [0, 1].
        exit_score: smoothed score below which a pose ends, in [0, 1].
        min_segment_ms: shortest segment reported, in ms.
        sample_fps: analyze at most this many frames per second, at least
            ``MIN_SAMPLE_FPS``; ``None`` analyzes every frame. Hits are reported for analyzed frames, and a
            segment spans the gaps between its analyzed frames.
        custom_poses: detectors for this analysis only, besides the
            registered ones (a request's own pose definitions); their names
            must not be registered ones.
    """

    poses: tuple[str, ...] | None = None
    include_frames: bool = False
    smoothing_ms: float = DEFAULT_SMOOTHING_MS
    enter_score: float = DEFAULT_ENTER_SCORE
    exit_score: float = DEFAULT_EXIT_SCORE
    min_segment_ms: float = DEFAULT_MIN_SEGMENT_MS
    sample_fps: float | None = None
    custom_poses: tuple[Detector, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.exit_score <= self.enter_score <= 1.0:
            raise ValueError("need 0 <= exit_score <= enter_score <= 1")
        if not all(math.isfinite(v) and v >= 0 for v in (self.smoothing_ms, self.min_segment_ms)):
            raise ValueError("smoothing_ms and min_segment_ms must be finite and not negative")
        if self.sample_fps is not None and not (
            math.isfinite(self.sample_fps) and self.sample_fps >= MIN_SAMPLE_FPS
        ):
            raise ValueError(f"sample_fps must be a finite number of at least {MIN_SAMPLE_FPS:g}")
