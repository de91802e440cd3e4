"""Video input: a streaming frame reader, and which frames sampling keeps.

Frames are read one at a time with OpenCV (FFmpeg backend) and never held
all at once. Rotation metadata of phone videos is applied by OpenCV
(``CAP_PROP_ORIENTATION_AUTO``), so frames come out upright and ``width`` /
``height`` are those of the displayed picture.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analyzer.errors import VideoTooLargeError
from analyzer.video.limits import VideoLimits
from analyzer.video.probe import open_capture, safe_fps


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based frame index in decode order.
        timestamp_ms: presentation time, ``index * 1000 / fps``, in ms.
        rgb: ``(height, width, 3) uint8`` RGB image, upright.
    """

    index: int
    timestamp_ms: float
    rgb: np.ndarray

    @property
    def fingerprint(self) -> int:
        """CRC-32 of the pixels: equal for the same frame decoded twice the
        same way, and almost surely different for two different frames."""
        return zlib.crc32(np.ascontiguousarray(self.rgb))


def is_sampled(index: int, fps: float, sample_fps: float | None) -> bool:
    """Whether frame ``index`` is analyzed when sampling at ``sample_fps``.

    A frame is kept when it is the first whose timestamp enters a new
    ``1 / sample_fps`` interval, so kept frames are spread evenly in time
    whatever the video's fps. ``None``, or a rate at or above ``fps``, keeps
    every frame.
    """
    if sample_fps is None or sample_fps >= fps:
        return True
    return index == 0 or int(index * sample_fps / fps) > int((index - 1) * sample_fps / fps)


class FrameReader:
    """Decode frames ``[start, stop)`` of a video one by one.

    Frames not sampled are decoded without being converted (``grab``). To
    reach ``start`` the reader decodes every frame before it the same way,
    unless ``seek`` is set: then OpenCV seeks to the keyframe before ``start``
    and decodes from there. Seeking by frame number is not exact for every
    file (OpenCV numbers frames from their timestamps, decode order counts
    them), so a caller that seeks must check where it landed (see
    ``analyzer.pipeline``). Frames whose longer side exceeds ``max_side`` are
    scaled down before conversion to RGB (bilinear down to half size, which
    costs a fifth of area averaging on a 1080p frame; area averaging below
    that, where bilinear would alias); landmarks are normalized, so the size
    only changes the cost.

    Args:
        path: video file.
        start: first frame index yielded.
        stop: frame index to stop before; ``None`` reads to the end, however
            many frames the container claims.
        sample_fps: analyze at most this many frames per second (see ``is_sampled``).
        max_side: longest side in pixels of yielded images; ``None`` keeps the size.
        limits: stop with ``VideoTooLargeError`` at the first frame past the
            frame budget, or on a first frame larger than allowed.
        seek: reach ``start`` by seeking instead of decoding every frame before it.

    Attributes:
        fps: the frame rate used for timestamps (``safe_fps`` of the container's).
        frames_read: index of the next frame to decode: frames decoded so
            far from frame 0, or from ``start`` after a seek.
        width, height: upright size of the video in pixels (0 before the first frame).

    Raises:
        UndecodableVideoError: the file cannot be opened (on construction).
        VideoTooLargeError: while iterating, past ``limits``.
    """

    def __init__(
        self,
        path: str | Path,
        start: int = 0,
        stop: int | None = None,
        sample_fps: float | None = None,
        max_side: int | None = None,
        limits: VideoLimits | None = None,
        seek: bool = False,
    ) -> None:
        self.path, self.start, self.stop = str(path), start, stop
        self.sample_fps, self.max_side, self.limits, self.seek = sample_fps, max_side, limits, seek
        self.capture = open_capture(path)
        self.fps = safe_fps(self.capture.get(cv2.CAP_PROP_FPS))
        self.budget = limits.frame_budget(self.fps) if limits else None
        self.frames_read = 0
        self.width = self.height = 0

    def __iter__(self) -> Iterator[Frame]:
        """Yields ``Frame`` objects in decode order, one at a time."""
        try:
            if self.seek and self.start > 0 and self.capture.set(cv2.CAP_PROP_POS_FRAMES, self.start):
                self.frames_read = int(self.capture.get(cv2.CAP_PROP_POS_FRAMES))
            while self.stop is None or self.frames_read < self.stop:
                index = self.frames_read
                if self.budget is not None and index >= self.budget:
                    if self.capture.grab():
                        raise VideoTooLargeError(self.limits.too_long_message(self.fps))  # type: ignore[union-attr]
                    return
                if index < self.start or not is_sampled(index, self.fps, self.sample_fps):
                    if not self.capture.grab():
                        return
                    self.frames_read += 1
                    continue
                ok, bgr = self.capture.read()
                if not ok or bgr is None:
                    return
                self.frames_read += 1
                yield Frame(index=index, timestamp_ms=index * 1000.0 / self.fps, rgb=self._rgb(bgr))
        finally:
            self.capture.release()

    def _rgb(self, bgr: np.ndarray) -> np.ndarray:
        if not self.width and self.limits is not None:
            self.limits.check_size(bgr.shape[1], bgr.shape[0])
        self.height, self.width = bgr.shape[:2]
        longest = max(self.height, self.width)
        if self.max_side is not None and longest > self.max_side:
            scale = self.max_side / longest
            size = (max(1, round(self.width * scale)), max(1, round(self.height * scale)))
            interpolation = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
            bgr = cv2.resize(bgr, size, interpolation=interpolation)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def iter_frames(path: str | Path, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
    """Every frame ``[start, stop)`` at full size (see ``FrameReader``)."""
    return iter(FrameReader(path, start, stop))
