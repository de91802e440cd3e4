"""Annotated video: the input re-encoded as a browser-ready MP4 with the
skeleton and the poses held drawn on every frame.

``python -m analyzer.annotate VIDEO ANALYSIS.json OUT.mp4`` renders it from
the JSON of an analysis of that video made with ``include=frames`` (the
output of ``POST /analyze`` or ``python -m analyzer --include frames``), or
from an ``Overlay`` saved as ``.npz`` (what the server hands over).

Frames are decoded with the analysis's own reader (OpenCV, rotation
applied), so the output has the same frames, in the same order and upright
size, as the landmarks; they are encoded with PyAV (FFmpeg's libx264):
H.264, ``yuv420p``, ``+faststart``, which every browser plays. 4:2:0 needs
even sizes, so an odd width or height gets one replicated pixel column or
row. With frame sampling, a frame between two analyzed ones shows the last
analyzed frame's skeleton and label.

Rendering costs CPU for seconds: the server runs this module as a child
process (``api.annotated``) so that its event loop only waits on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from analyzer.errors import UndecodableVideoError
from analyzer.render.overlay import Overlay
from analyzer.render.skeleton import draw_label, draw_skeleton
from analyzer.video import FrameReader

#: x264 quality (lower is better and larger; 23 is libx264's default) and speed preset.
CRF = 23
PRESET = "superfast"


@dataclass(frozen=True)
class RenderedVideo:
    """What was written: ``frames`` frames of ``width`` x ``height`` pixels."""

    frames: int
    width: int
    height: int


def _even(rgb: np.ndarray) -> np.ndarray:
    """The image with an odd width or height padded by one replicated pixel."""
    height, width = rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return rgb
    return cv2.copyMakeBorder(rgb, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)


def render_annotated(video_path: str | Path, overlay: Overlay, out_path: str | Path) -> RenderedVideo:
    """Write the annotated MP4 of a video.

    Args:
        video_path: the analyzed video.
        overlay: what to draw (``overlay_from_analysis``).
        out_path: the MP4 to write (replaced if it exists).

    Raises:
        UndecodableVideoError: no frame of the video decodes.
    """
    reader = FrameReader(video_path)
    rate = Fraction(reader.fps).limit_denominator(100_000)
    container = None
    stream = None
    count = 0
    try:
        for frame in reader:
            rgb = frame.rgb
            shown = overlay.at(frame.index)
            if shown is not None:
                draw_skeleton(rgb, shown[0])
                draw_label(rgb, shown[1])
            rgb = _even(rgb)
            if stream is None:
                container = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
                stream = container.add_stream("libx264", rate, options={"crf": str(CRF), "preset": PRESET})
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = "yuv420p"
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts, picture.time_base = frame.index, 1 / rate
            container.mux(stream.encode(picture))
            count += 1
        if stream is None:
            raise UndecodableVideoError("no frame of the video could be decoded")
        container.mux(stream.encode(None))
    finally:
        if container is not None:
            container.close()
    return RenderedVideo(frames=count, width=stream.width, height=stream.height)
