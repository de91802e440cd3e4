"""What a video file is before any frame is decoded: its content type,
sniffed from magic bytes, and the fps, frame count and size its container
declares.

These are hints for planning, limits and progress bars; the decoder
(``analyzer.video.reader``) finds the truth.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import cv2
import filetype

from analyzer.errors import NotAVideoError, UndecodableVideoError

#: Frame rate assumed when the container reports none (0, NaN or absurd).
FALLBACK_FPS = 30.0
#: Largest frame rate taken from a container as real; above it (or at 0 or
#: NaN) ``FALLBACK_FPS`` is used. 1000 fps keeps millisecond timestamps of
#: consecutive frames distinct.
MAX_FPS = 1000.0


def sniff(path: str | Path) -> str:
    """Check by content (magic bytes, not name) that a file is a video container.

    Returns:
        The detected MIME type, e.g. ``video/mp4``.

    Raises:
        NotAVideoError: the file is empty, or its content is not a known
            video container (text, images, audio-only formats, random bytes).
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise NotAVideoError("the uploaded file is empty")
    kind = filetype.guess(str(path))
    if kind is None:
        raise NotAVideoError("the file is not a video (its content matches no known video format)")
    if not kind.mime.startswith("video/"):
        raise NotAVideoError(f"the file is not a video but {kind.mime}")
    return kind.mime


def safe_fps(value: float) -> float:
    """The container's frame rate if usable, else ``FALLBACK_FPS``."""
    if not math.isfinite(value) or value <= 0.0 or value > MAX_FPS:
        return FALLBACK_FPS
    return float(value)


def open_capture(path: str | Path) -> cv2.VideoCapture:
    """Open a video with OpenCV with rotation metadata applied.

    Raises:
        UndecodableVideoError: OpenCV cannot open the file.
    """
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise UndecodableVideoError("the video could not be opened for decoding")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


class ContainerInfo(NamedTuple):
    """What the container declares: hints for planning and progress bars.

    Attributes:
        fps: frame rate (``safe_fps`` of the declared one).
        frame_count: declared frames; can be wrong, and is 0 when unknown.
        width, height: declared frame size in pixels, as stored (before rotation).
    """

    fps: float
    frame_count: int
    width: int
    height: int


def probe(path: str | Path) -> ContainerInfo:
    """Read the container's declared fps and frame count without decoding.

    Raises:
        UndecodableVideoError: the file cannot be opened.
    """
    capture = open_capture(path)
    try:
        count, width, height = (
            capture.get(prop)
            for prop in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
        )
        return ContainerInfo(
            fps=safe_fps(capture.get(cv2.CAP_PROP_FPS)),
            frame_count=int(count) if math.isfinite(count) and count > 0 else 0,
            width=int(width) if math.isfinite(width) else 0,
            height=int(height) if math.isfinite(height) else 0,
        )
    finally:
        capture.release()


def frames_to_analyze(path: str | Path, sample_fps: float | None) -> int | None:
    """How many frames an analysis will run the landmarker on, from the
    container's declared count (a hint for progress bars); ``None`` when the
    container does not say or cannot be opened."""
    try:
        info = probe(path)
    except UndecodableVideoError:
        return None
    if not info.frame_count:
        return None
    return math.ceil(info.frame_count * min(1.0, (sample_fps or info.fps) / info.fps))
