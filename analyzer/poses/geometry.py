"""Angles and body measures on landmarks, for one frame or many.

Landmark functions take a ``(..., 33, 4) float32`` array in pixels (see
``analyzer.landmarks.blazepose.to_pixels``; image y grows downwards): ``(33, 4)``
for one frame, ``(n, 33, 4)`` for n frames at once, with the results shaped
``(...)`` accordingly; the angle functions take points, ``(..., 2)`` in the
image or ``(..., 3)`` in the world (metres, y down). A frame without a
person is all NaN and gives NaN.

They use only quantities that do not change when the person turns round or
the video is mirrored: angles at joints, angles against the image vertical
or horizontal taken without the sign of x, and distances. None relies on
MediaPipe's left landmark being left of the right one in the image.
"""

from __future__ import annotations

import numpy as np

from analyzer.landmarks.blazepose import VISIBILITY, Landmark

#: Visibility below which a landmark is not trusted. 0.5 is the cut-off that
#: MediaPipe's own drawing utilities use (``_VISIBILITY_THRESHOLD`` in
#: ``mediapipe/tasks/python/vision/drawing_utils.py``).
MIN_VISIBILITY = 0.5


def visible(landmarks: np.ndarray, *points: Landmark) -> np.ndarray:
    """``(...) bool``: every given landmark has visibility >= ``MIN_VISIBILITY``."""
    return np.all(landmarks[..., list(points), VISIBILITY] >= MIN_VISIBILITY, axis=-1)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(...)`` Euclidean distance between ``(..., 2)`` points, in pixels."""
    return np.linalg.norm(np.asarray(a) - np.asarray(b), axis=-1)


def angle_at(a: np.ndarray, joint: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(...)`` angle a-joint-b between ``(..., 2)`` points, in degrees [0, 180].

    180 is a straight limb (hip-knee-ankle of a straight leg); NaN where a
    segment has zero length.
    """
    u = a - joint
    v = b - joint
    norm = np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / np.where(norm > 0, norm, np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _across(d: np.ndarray) -> np.ndarray:
    """``(...)`` length of the horizontal part of ``(..., 2)`` or ``(..., 3)``
    vectors whose axis 1 is vertical (y down): |x| in the image, the part in
    the floor plane (x, z) in the world."""
    return np.linalg.norm(np.delete(d, 1, axis=-1), axis=-1)


def angle_from_vertical(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``(...)`` angle in degrees [0, 180] between start->end and "up".

    Points are ``(..., 2)`` in the image or ``(..., 3)`` in the world, y
    down in both. 0 means ``end`` is straight above ``start``, 90 is
    horizontal in any direction (so a mirrored image gives the same value),
    180 straight below.
    """
    d = np.asarray(end) - np.asarray(start)
    return np.degrees(np.arctan2(_across(d), -d[..., 1]))


def angle_from_horizontal(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``(...)`` unsigned angle in degrees [0, 90] between line start-end and
    the horizontal (``(..., 2)`` or ``(..., 3)`` points, y down)."""
    d = np.asarray(end) - np.asarray(start)
    return np.degrees(np.arctan2(np.abs(d[..., 1]), _across(d)))


def angle_from_axis(start: np.ndarray, end: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``(...)`` unsigned angle in degrees [0, 90] between line start-end seen
    from above (its part in the floor plane) and the line of a horizontal unit
    ``axis``, for ``(..., 3)`` world points (y down): 0 along the axis either
    way, 90 across it; 0 where the line is vertical (seen from above it has
    no direction, so it is not turned away from the axis)."""
    d = (np.asarray(end) - np.asarray(start)) * np.array([1.0, 0.0, 1.0], dtype=np.float32)
    dot = np.sum(d * axis, axis=-1)
    across = np.linalg.norm(d - dot[..., None] * axis, axis=-1)
    return np.degrees(np.arctan2(across, np.abs(dot)))


def ramp(value: np.ndarray | float, threshold: float, softness: float, *, above: bool) -> np.ndarray:
    """A soft threshold: ``(...)`` scores in [0, 1] that are exactly 0.5 at ``threshold``.

    The score moves linearly from 0 to 1 over ``threshold +- softness``, so a
    detector that takes the minimum of its ramps hits (score >= 0.5) exactly
    when every condition of its definition holds, and the score says by how
    much. ``above=True`` rewards values above the threshold. NaN stays NaN.
    """
    delta = (np.asarray(value) - threshold) if above else (threshold - np.asarray(value))
    return np.clip(0.5 + delta / (2.0 * softness), 0.0, 1.0)


def judged(score: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``score`` where ``known`` is true, NaN ("cannot judge") elsewhere."""
    return np.where(known, score, np.nan)
