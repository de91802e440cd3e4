"""What a constraint of a pose definition measures, frame by frame.

Each measure takes detector landmarks ``(..., 33, 4 or 7) float32``
(``analyzer.landmarks.blazepose``), the side a quantifier group looks at
(``analyzer.poses.definitions.points``) and the constraint's JSON object, and
returns ``(...)`` values and a ``(...) bool`` that is false where a landmark
it needs is not visible (or, in ``world`` space, where the frame has no
world landmarks). Every value is one that does not change when the person
turns round or the video is mirrored (see ``analyzer.poses.geometry``): no signed
horizontal quantity is ever exposed.

``angle``, ``tilt``, ``distance`` and ``height`` take a ``space``: ``image``
(the default: pixels on the frame) or ``world`` (MediaPipe's world landmarks,
metres in 3D, so a bend toward the camera is not flattened). Units are then
measured in the same space.

- ``angle`` (degrees, 0-180): the angle at the middle of three points, 180
  for a straight limb (``geometry.angle_at``).
- ``tilt`` (degrees): the line from the first point to the second against
  the vertical (0: straight up, 90: horizontal, 180: straight down) or the
  horizontal (0-90, either way); in ``world`` also against the body's
  ``front`` (seen from above, 0-90: 0 straight forward or back, 90 out to
  the side; ``points.body_axes``).
- ``distance`` (``unit`` lengths): between two points; ``axis`` ``x`` or
  ``y`` keeps only the horizontal or vertical part; in ``world`` also
  ``front`` or ``side``: only the part along the body's front-back or
  side-to-side axis (horizontal, ``points.body_axes``).
- ``height`` (``unit`` lengths): how far the first point is above the
  second (negative: below).
- ``outside`` (``unit`` lengths): how much farther the first point is from
  the vertical line through ``of`` than the second point is.
- ``sides`` (1 or 0): whether the two points lie on ``opposite`` or the
  ``same`` side of the vertical line through ``of``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from analyzer.poses.definitions.points import body_axes, point, unit_length
from analyzer.poses.geometry import (
    angle_at,
    angle_from_axis,
    angle_from_horizontal,
    angle_from_vertical,
    distance,
)

Measured = tuple[np.ndarray, np.ndarray]


def _points(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Positions of the constraint's ``points`` (and ``of``) and whether all are visible."""
    names = [*spec["points"], *([spec["of"]] if "of" in spec else [])]
    space = spec.get("space", "image")
    found = [point(landmarks, name, side, space) for name in names]
    return [position for position, _ in found], np.logical_and.reduce([known for _, known in found])


def _per_unit(value: np.ndarray, landmarks: np.ndarray, spec: dict[str, Any], known: np.ndarray) -> Measured:
    """``value`` in pixels (metres) divided by the constraint's unit; NaN where the unit is 0."""
    length, unit_known = unit_length(landmarks, spec["unit"], spec.get("space", "image"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return value / np.where(length > 0, length, np.nan), known & unit_known


def _angle(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (a, joint, b), known = _points(landmarks, spec, side)
    return angle_at(a, joint, b), known


def _tilt(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (start, end), known = _points(landmarks, spec, side)
    if spec["from"] == "front":
        _, front, axes_known = body_axes(landmarks)
        return angle_from_axis(start, end, front), known & axes_known
    against = angle_from_vertical if spec["from"] == "vertical" else angle_from_horizontal
    return against(start, end), known


def _distance(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (a, b), known = _points(landmarks, spec, side)
    axis = spec.get("axis")
    if axis is None:
        value = distance(a, b)
    elif axis in ("x", "y"):
        value = np.abs(a[..., "xy".index(axis)] - b[..., "xy".index(axis)])
    else:
        sideways, front, axes_known = body_axes(landmarks)
        value = np.abs(np.sum((a - b) * (front if axis == "front" else sideways), axis=-1))
        known = known & axes_known
    return _per_unit(value, landmarks, spec, known)


def _height(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (a, b), known = _points(landmarks, spec, side)
    return _per_unit(b[..., 1] - a[..., 1], landmarks, spec, known)


def _outside(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (a, b, centre), known = _points(landmarks, spec, side)
    value = np.abs(a[..., 0] - centre[..., 0]) - np.abs(b[..., 0] - centre[..., 0])
    return _per_unit(value, landmarks, spec, known)


def _sides(landmarks: np.ndarray, spec: dict[str, Any], side: int) -> Measured:
    (a, b, centre), known = _points(landmarks, spec, side)
    product = (a[..., 0] - centre[..., 0]) * (b[..., 0] - centre[..., 0])
    holds = product < 0 if spec["are"] == "opposite" else product > 0
    return holds.astype(a.dtype), known


MEASURES: dict[str, Callable[[np.ndarray, dict[str, Any], int], Measured]] = {
    "angle": _angle,
    "tilt": _tilt,
    "distance": _distance,
    "height": _height,
    "outside": _outside,
    "sides": _sides,
}
