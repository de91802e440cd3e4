"""Whole-body conditions that several detectors share, as soft scores.

Each function takes landmarks ``(..., 33, 4) float32`` in pixels (see
``analyzer.geometry``) and returns ``(...)`` scores in [0, 1] that are 0.5
exactly at the threshold of the definition (``analyzer.geometry.ramp``), or
NaN where a landmark it needs is not visible enough to judge.

The thresholds come from the pose definitions in ``shared/labels/GUIDE.md``
(the specification of the detectors); where the guide says "nearly" or
"about", the number chosen and its reason are given next to it.
"""

from __future__ import annotations

import numpy as np

from analyzer.geometry import angle_from_vertical, distance, joint_angle, judged, midpoint, ramp, visible, xy
from analyzer.landmarks import Landmark, Y

#: Torso lean from vertical above which a person is not upright, in degrees.
#: GUIDE.md, standing: "torso roughly vertical (leaning less than about 30
#: degrees)".
MAX_TORSO_LEAN_DEG = 30.0
TORSO_LEAN_SOFTNESS_DEG = 10.0

#: Smallest hip-knee-ankle angle of a "nearly straight" leg, in degrees
#: (180 = straight). GUIDE.md accepts "a slight knee bend of a relaxed stance"
#: and rejects "a clear dance crouch"; a relaxed stance bends the knee by
#: well under 20 degrees and a squat or plie by 45 or more, so the line is
#: drawn at 30 degrees of flexion.
MIN_KNEE_ANGLE_DEG = 150.0
KNEE_SOFTNESS_DEG = 10.0

LEGS = (
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
)
TORSO = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)


def upright(landmarks: np.ndarray) -> np.ndarray:
    """Score of "torso roughly vertical": hip midpoint to shoulder midpoint
    within ``MAX_TORSO_LEAN_DEG`` of the image vertical. Needs both
    shoulders and both hips."""
    hips = midpoint(landmarks, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)
    shoulders = midpoint(landmarks, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
    lean = angle_from_vertical(hips, shoulders)
    score = ramp(lean, MAX_TORSO_LEAN_DEG, TORSO_LEAN_SOFTNESS_DEG, above=False)
    return judged(score, visible(landmarks, *TORSO))


def leg_straight(landmarks: np.ndarray, leg: tuple[Landmark, Landmark, Landmark]) -> np.ndarray:
    """Score of one leg being nearly straight (hip-knee-ankle angle at least
    ``MIN_KNEE_ANGLE_DEG``). Needs that leg's hip, knee and ankle."""
    score = ramp(joint_angle(landmarks, *leg), MIN_KNEE_ANGLE_DEG, KNEE_SOFTNESS_DEG, above=True)
    return judged(score, visible(landmarks, *leg))


def both_legs_straight(landmarks: np.ndarray) -> np.ndarray:
    """Score of both legs being nearly straight: the weaker leg decides."""
    return np.minimum(*(leg_straight(landmarks, leg) for leg in LEGS))


def supporting_leg_straight(landmarks: np.ndarray) -> np.ndarray:
    """Score of the supporting leg or legs being nearly straight.

    The supporting leg is the one whose ankle is lower in the image (the
    foot on the floor); when the other ankle is within half a shin of it,
    both feet are down and both legs must be straight. So a tree pose (one
    foot lifted to the other knee) is judged by its standing leg, while a
    lunge or squat, feet down, is judged by both. Needs both legs, since a
    hidden leg may be the supporting one.
    """
    first, second = (leg_straight(landmarks, leg) for leg in LEGS)
    ankle_first = landmarks[..., LEGS[0][2], Y]
    ankle_second = landmarks[..., LEGS[1][2], Y]
    shin = np.minimum(*(distance(xy(landmarks, knee), xy(landmarks, ankle)) for _, knee, ankle in LEGS))
    one_foot_up = np.abs(ankle_first - ankle_second) > shin / 2.0
    lower = np.where(ankle_first > ankle_second, first, second)
    score = np.where(one_foot_up, lower, np.minimum(first, second))
    return judged(score, ~np.isnan(first) & ~np.isnan(second))
