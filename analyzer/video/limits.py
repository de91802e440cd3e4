"""Limits on what a video may demand, checked before and during decoding.

A small file can declare a huge picture or hours of frames (a decompression
bomb), and a container's declared size and length can also be wrong. So the
declared values are checked before any frame is queued for analysis
(``check_declared``), and the decoder enforces the same limits on what it
really decodes (``analyzer.video.reader.FrameReader``): the first frame's size,
and the number of frames, stopping at the first frame past the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analyzer.errors import VideoTooLargeError
from analyzer.video.probe import ContainerInfo


@dataclass(frozen=True)
class VideoLimits:
    """Largest video an analysis accepts; ``None`` is no limit.

    Attributes:
        max_duration_s: longest video, in seconds of video.
        max_frames: most frames.
        max_pixels: largest frame, width x height in pixels.
    """

    max_duration_s: float | None = None
    max_frames: int | None = None
    max_pixels: int | None = None

    def frame_budget(self, fps: float) -> int | None:
        """Most frames allowed at ``fps``: the frame limit or the duration
        limit, whichever is smaller."""
        budgets = [] if self.max_frames is None else [self.max_frames]
        if self.max_duration_s is not None:
            budgets.append(math.floor(self.max_duration_s * fps))
        return min(budgets) if budgets else None

    def check_declared(self, info: ContainerInfo) -> None:
        """Refuse a video whose container declares too large a picture or too
        many frames.

        Raises:
            VideoTooLargeError: with the limit that was exceeded.
        """
        self.check_size(info.width, info.height)
        budget = self.frame_budget(info.fps)
        if budget is not None and info.frame_count > budget:
            raise VideoTooLargeError(self.too_long_message(info.fps))

    def check_size(self, width: int, height: int) -> None:
        """Raises ``VideoTooLargeError`` if a ``width`` x ``height`` frame is too large."""
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise VideoTooLargeError(
                f"the video's frames are {width}x{height} pixels, more than the limit of "
                f"{self.max_pixels} pixels per frame"
            )

    def too_long_message(self, fps: float) -> str:
        """The message for a video past ``frame_budget(fps)``."""
        parts = []
        if self.max_duration_s is not None:
            parts.append(f"{self.max_duration_s:g} s")
        if self.max_frames is not None:
            parts.append(f"{self.max_frames} frames")
        return f"the video is longer than the limit of {' and '.join(parts)}"
