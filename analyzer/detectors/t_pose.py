"""``t_pose``: upright, legs nearly straight, both arms straight out to the sides.

GUIDE.md: "the body is upright with both legs nearly straight (feet may be
apart, as in a jumping jack), and BOTH arms are stretched out to the sides,
roughly horizontal: each arm within about 20 degrees of horizontal, elbows
nearly straight, hands out away from the body at about shoulder height. A
lunge or deep knee bend with T arms (yoga warrior II) is not a T-pose. One
arm out, or arms forward toward the camera, is not a T-pose."
"""

from __future__ import annotations

import numpy as np

from analyzer.body import both_legs_straight, upright
from analyzer.detectors.registry import register
from analyzer.geometry import (
    angle_from_horizontal,
    distance,
    joint_angle,
    judged,
    midpoint,
    ramp,
    torso_length,
    visible,
    xy,
)
from analyzer.landmarks import Landmark, X

#: Largest angle of the shoulder-wrist line from horizontal, in degrees
#: (GUIDE.md: "each arm within about 20 degrees of horizontal").
MAX_ARM_TILT_DEG = 20.0
ARM_TILT_SOFTNESS_DEG = 7.0

#: Smallest shoulder-elbow-wrist angle of a "nearly straight" elbow, in
#: degrees: the same 30 degrees of flexion as a nearly straight knee
#: (``analyzer.body.MIN_KNEE_ANGLE_DEG``).
MIN_ELBOW_ANGLE_DEG = 150.0
ELBOW_SOFTNESS_DEG = 10.0

#: Smallest shoulder-to-wrist distance in the image, in torso lengths, for an
#: arm "stretched out to the side" rather than pointing toward the camera. A
#: straight arm is about 1.15 torso lengths (upper arm 0.186 H + forearm
#: 0.146 H over shoulder-to-hip 0.288 H in Drillis and Contini's segment
#: proportions of body height H); 0.75 of that (0.86) lets the arm point up
#: to about 40 degrees out of the image plane.
MIN_ARM_REACH_TORSOS = 0.86
ARM_REACH_SOFTNESS_TORSOS = 0.15

ARMS = (
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST),
)


def arm_out(landmarks: np.ndarray, arm: tuple[Landmark, Landmark, Landmark]) -> np.ndarray:
    """``(...)`` score of one arm stretched out sideways: tilt within
    ``MAX_ARM_TILT_DEG`` of horizontal, elbow at least ``MIN_ELBOW_ANGLE_DEG``
    and reach at least ``MIN_ARM_REACH_TORSOS``."""
    shoulder, _, wrist = arm
    tilt = angle_from_horizontal(xy(landmarks, shoulder), xy(landmarks, wrist))
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = distance(xy(landmarks, shoulder), xy(landmarks, wrist)) / torso_length(landmarks)
    return np.minimum.reduce(
        [
            ramp(tilt, MAX_ARM_TILT_DEG, ARM_TILT_SOFTNESS_DEG, above=False),
            ramp(joint_angle(landmarks, *arm), MIN_ELBOW_ANGLE_DEG, ELBOW_SOFTNESS_DEG, above=True),
            ramp(reach, MIN_ARM_REACH_TORSOS, ARM_REACH_SOFTNESS_TORSOS, above=True),
        ]
    )


def hands_to_both_sides(landmarks: np.ndarray) -> np.ndarray:
    """``(...) bool``: the wrists are on opposite sides of the shoulder
    midpoint, each farther out than its own shoulder. Only the product of the
    signed offsets is used, so it holds whichever way the person faces and
    whether or not the video is mirrored."""
    centre = midpoint(landmarks, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)[..., 0]
    wrist = [landmarks[..., arm[2], X] - centre for arm in ARMS]
    shoulder = [landmarks[..., arm[0], X] - centre for arm in ARMS]
    outward = (np.abs(wrist[0]) > np.abs(shoulder[0])) & (np.abs(wrist[1]) > np.abs(shoulder[1]))
    return (wrist[0] * wrist[1] < 0) & outward


@register(
    "t_pose",
    "Upright on straight legs with both arms stretched out to the sides, "
    "each within 20 degrees of horizontal.",
)
def t_pose(landmarks: np.ndarray) -> np.ndarray:
    """Score ``t_pose`` on ``(..., 33, 4) float32`` landmarks in pixels.

    The minimum of: upright torso, both legs nearly straight, and ``arm_out``
    for each arm; 0 where the hands are not out to opposite sides
    (``hands_to_both_sides``). NaN where a shoulder, elbow, wrist, hip, knee
    or ankle is not visible.
    """
    score = np.minimum.reduce(
        [upright(landmarks), both_legs_straight(landmarks), *(arm_out(landmarks, arm) for arm in ARMS)]
    )
    score = np.where(hands_to_both_sides(landmarks), score, np.minimum(score, 0.0))
    return judged(score, visible(landmarks, *(p for arm in ARMS for p in arm)))
