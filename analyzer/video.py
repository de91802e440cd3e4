"""Video input: content sniffing, metadata, and a streaming frame reader.

Frames are read one at a time with OpenCV (FFmpeg backend) and never held
all at once. Rotation metadata of phone videos is applied by OpenCV
(``CAP_PROP_ORIENTATION_AUTO``), so frames come out upright and ``width`` /
``height`` are those of the displayed picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import filetype
import numpy as np

from analyzer.errors import NotAVideoError, UndecodableVideoError

#: Frame rate assumed when the container reports none (0, NaN or absurd).
FALLBACK_FPS = 30.0
#: Largest frame rate taken from a container as real; above it (or at 0 or
#: NaN) ``FALLBACK_FPS`` is used. 1000 fps keeps millisecond timestamps of
#: consecutive frames distinct.
MAX_FPS = 1000.0


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


def iter_frames(path: str | Path, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
    """Decode frames ``[start, stop)`` of a video one by one.

    Frames before ``start`` are decoded and dropped (``grab``), since seeking
    by frame number is not exact for every codec. ``stop=None`` reads to the
    end, however many frames the container claims.

    Yields:
        ``Frame`` objects in decode order; the generator keeps one frame at a time.

    Raises:
        UndecodableVideoError: the file cannot be opened.
    """
    capture = open_capture(path)
    try:
        fps = safe_fps(capture.get(cv2.CAP_PROP_FPS))
        index = 0
        while stop is None or index < stop:
            if index < start:
                if not capture.grab():
                    return
                index += 1
                continue
            ok, bgr = capture.read()
            if not ok or bgr is None:
                return
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield Frame(index=index, timestamp_ms=index * 1000.0 / fps, rgb=rgb)
            index += 1
    finally:
        capture.release()


def container_fps(path: str | Path) -> float:
    """The frame rate the container reports, guarded by ``safe_fps``.

    Raises:
        UndecodableVideoError: the file cannot be opened.
    """
    capture = open_capture(path)
    try:
        return safe_fps(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()
