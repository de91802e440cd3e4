"""Pose stage: landmarks in, per-frame pose decisions and segments out.

Takes ``(n, 33, 7)`` landmarks: pixels and visibility, then world metres
(``analyzer.landmarks.blazepose.to_pixels``). Gives each detector's score per
frame in [0, 1] (``Detector``, from ``get_detectors``; 0.5 and above is a
hit, NaN when the landmarks it needs are not visible), decisions smoothed
over time (``smooth``, ``hysteresis``) and the runs in which a pose is held
(``find_segments``, ``Segment``). Poses are declarative JSON definitions
(``library/*.json``, compiled by ``definitions``) registered in
``detectors``.
"""

from analyzer.poses.detectors import HIT_SCORE, Detector, available, get_detectors
from analyzer.poses.segments import Segment, find_segments
from analyzer.poses.smoothing import hysteresis, smooth

__all__ = [
    "HIT_SCORE",
    "Detector",
    "Segment",
    "available",
    "find_segments",
    "get_detectors",
    "hysteresis",
    "smooth",
]
