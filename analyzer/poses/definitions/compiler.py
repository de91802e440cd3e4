"""Compile a validated pose definition into a detector scoring function.

The score of a pose is the minimum over its constraints (NaN when any of
them cannot be judged). A constraint with a threshold scores its measure
with ``analyzer.poses.geometry.ramp``: 0.5 exactly at ``min`` (or ``max``), rising
to 1 (falling to 0) over ``softness``; with both ``min`` and ``max`` the
weaker side decides. ``softness`` 0 is a hard limit: 1 strictly past the
threshold, 0 at or before it. A ``sides`` constraint scores 1 or 0.

A group (``{"for": ..., "constraints": [...]}``) scores its constraints for
each side of the body, "this" side being the person's left and then their
right (``analyzer.poses.definitions.points``), takes the minimum per side, and
combines the two sides by its quantifier:

- ``both``: the weaker side (minimum);
- ``either``: the stronger side (maximum; NaN unless both can be judged);
- ``visible``: every side that can be judged (the weaker of them; NaN only
  when neither can): "both legs", seen from the side where one hides the
  other, taken to hold as the visible one does, as a person watching would;
- ``supporting``: the supporting leg or legs, as ``standing`` has always
  judged them: the side whose ankle is lower in the image when the ankles
  are more than half a shin apart in height (one foot up), else both
  sides; when one leg is hidden (seen from the side), the visible one;
- ``lifted``: the side whose ankle is higher in the image (pair it with a
  ``height`` constraint when the foot must be off the floor).

An alternative (``{"any": [...]}``), at the top or inside a group, scores
the best of its constraints (``numpy.fmax``: those that cannot be judged
are left out; NaN only when none can be judged): "the rear leg straight, or
the feet split front to back".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from analyzer.landmarks.blazepose import Landmark, Y
from analyzer.poses.definitions.measures import MEASURES
from analyzer.poses.definitions.points import unit_length
from analyzer.poses.geometry import judged, ramp, visible

ScoreFn = Callable[[np.ndarray], np.ndarray]
SideScoreFn = Callable[[np.ndarray, int], np.ndarray]
LEFT, RIGHT = 0, 1
_LEGS = (Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE)


def _limit(value: np.ndarray, threshold: float, softness: float, *, above: bool) -> np.ndarray:
    """Soft (``ramp``) or, with ``softness`` 0, hard score of one limit."""
    if softness > 0:
        return ramp(value, threshold, softness, above=above)
    holds = value > threshold if above else value < threshold
    return np.where(np.isnan(value), np.nan, holds.astype(value.dtype))


def _minimum(scores: list[np.ndarray]) -> np.ndarray:
    return scores[0] if len(scores) == 1 else np.minimum.reduce(scores)


def compile_constraint(spec: dict[str, Any]) -> SideScoreFn:
    """``(landmarks, side) -> (...)`` scores of one measured constraint."""
    measure = MEASURES[spec["measure"]]
    limits = [(spec[key], key == "min") for key in ("min", "max") if key in spec]

    def score(landmarks: np.ndarray, side: int) -> np.ndarray:
        value, known = measure(landmarks, spec, side)
        if limits:
            value = _minimum([_limit(value, limit, spec["softness"], above=above) for limit, above in limits])
        return judged(value, known)

    return score


def compile_item(spec: dict[str, Any]) -> SideScoreFn:
    """``(landmarks, side) -> (...)`` scores of a measured constraint, an
    alternative, or (at the top of a definition) a group, which judges both
    sides itself and so ignores ``side``."""
    if "any" in spec:
        parts = [compile_item(item) for item in spec["any"]]

        def best(landmarks: np.ndarray, side: int) -> np.ndarray:
            return np.fmax.reduce([part(landmarks, side) for part in parts])

        return best
    if "for" in spec:
        group = compile_group(spec)
        return lambda landmarks, side: group(landmarks)
    return compile_constraint(spec)


def _supporting(landmarks: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ankle_left = landmarks[..., Landmark.LEFT_ANKLE, Y]
    ankle_right = landmarks[..., Landmark.RIGHT_ANKLE, Y]
    shin, _ = unit_length(landmarks, "shin")
    one_foot_up = np.abs(ankle_left - ankle_right) > shin / 2.0
    lower = np.where(ankle_left > ankle_right, left, right)
    score = np.where(one_foot_up, lower, np.minimum(left, right))
    left_seen = ~np.isnan(left) & visible(landmarks, *_LEGS[:2])
    right_seen = ~np.isnan(right) & visible(landmarks, *_LEGS[2:])
    score = np.where(left_seen & right_seen, score, np.where(left_seen, left, right))
    return judged(score, left_seen | right_seen)


def _lifted(landmarks: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    higher_left = landmarks[..., Landmark.LEFT_ANKLE, Y] < landmarks[..., Landmark.RIGHT_ANKLE, Y]
    known = visible(landmarks, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE)
    return judged(np.where(higher_left, left, right), known)


QUANTIFIERS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "both": lambda landmarks, left, right: np.minimum(left, right),
    "either": lambda landmarks, left, right: np.maximum(left, right),
    "visible": lambda landmarks, left, right: np.fmin(left, right),
    "supporting": _supporting,
    "lifted": _lifted,
}


def compile_group(spec: dict[str, Any]) -> ScoreFn:
    """``landmarks -> (...)`` scores of a quantifier group."""
    parts = [compile_item(constraint) for constraint in spec["constraints"]]
    combine = QUANTIFIERS[spec["for"]]

    def score(landmarks: np.ndarray) -> np.ndarray:
        left, right = (_minimum([part(landmarks, side) for part in parts]) for side in (LEFT, RIGHT))
        return combine(landmarks, left, right)

    return score


def compile_definition(definition: dict[str, Any]) -> ScoreFn:
    """The scoring function of a validated definition: ``(..., 33, 4 or 7)
    float32`` detector landmarks (pixels, then world metres;
    ``analyzer.landmarks.blazepose``) -> ``(...)`` scores in [0, 1], NaN where a
    constraint cannot be judged (see ``analyzer.poses.detectors.registry``)."""
    parts: list[ScoreFn] = []
    for spec in definition["constraints"]:
        if "for" in spec:
            parts.append(compile_group(spec))
        else:
            central = compile_item(spec)
            parts.append(lambda landmarks, central=central: central(landmarks, LEFT))

    def score(landmarks: np.ndarray) -> np.ndarray:
        return _minimum([part(landmarks) for part in parts])

    return score
