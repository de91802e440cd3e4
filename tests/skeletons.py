"""Synthetic landmark arrays for detector tests: a stick figure on a
1000 x 1000 pixel frame, in the layout detectors take ((33, 7) float32:
x, y, z in pixels, visibility, then the world landmarks x, y, z in metres;
``analyzer.landmarks.blazepose``).

The figure is drawn in the image plane; a leg shape may also move landmarks
toward the camera (``LEG_DEPTH``), which the image does not show and the
world landmarks do, as MediaPipe's would. World coordinates are the pixel
ones about the hip centre at ``METRES_PER_PIXEL``, y down, z away from the
camera."""

from __future__ import annotations

import numpy as np

from analyzer.landmarks.blazepose import WORLD
from analyzer.landmarks.blazepose import Landmark as L

SIZE = 1000.0
CENTRE = 500.0
#: World scale: the 250-pixel torso is 0.5 m, about a 1.75 m person's.
METRES_PER_PIXEL = 0.002
#: Wrist to the index and pinky knuckles, in pixels: about half the hand
#: length (0.108 H = 0.375 torso lengths, Drillis and Contini).
KNUCKLES = 45.0

# (person's-left x offset from the body's centre line, y) of each left-side
# landmark; the right side mirrors it. Torso: shoulders y=250, hips y=500.
HEAD = {
    L.LEFT_EYE_INNER: (8, 140),
    L.LEFT_EYE: (15, 140),
    L.LEFT_EYE_OUTER: (22, 140),
    L.LEFT_EAR: (30, 145),
    L.MOUTH_LEFT: (10, 170),
}
TORSO = {L.LEFT_SHOULDER: (60, 250), L.LEFT_HIP: (40, 500)}
ARMS = {
    "down": {L.LEFT_ELBOW: (70, 380), L.LEFT_WRIST: (70, 500)},
    "t": {L.LEFT_ELBOW: (190, 250), L.LEFT_WRIST: (320, 250)},
    "up": {L.LEFT_ELBOW: (80, 130), L.LEFT_WRIST: (70, 20)},
    "on_head": {L.LEFT_ELBOW: (130, 125), L.LEFT_WRIST: (30, 110)},
    "forward": {L.LEFT_ELBOW: (65, 255), L.LEFT_WRIST: (70, 262)},
    "bent_out": {L.LEFT_ELBOW: (190, 250), L.LEFT_WRIST: (190, 120)},
    "tilted_up": {L.LEFT_ELBOW: (170, 170), L.LEFT_WRIST: (280, 90)},
    "akimbo": {L.LEFT_ELBOW: (150, 380), L.LEFT_WRIST: (70, 470)},
    "at_face": {L.LEFT_ELBOW: (90, 260), L.LEFT_WRIST: (60, 165)},
    "overhead_low": {L.LEFT_ELBOW: (110, 160), L.LEFT_WRIST: (90, 110)},
}
LEGS = {
    "straight": {L.LEFT_KNEE: (40, 650), L.LEFT_ANKLE: (40, 800)},
    "apart": {L.LEFT_KNEE: (80, 650), L.LEFT_ANKLE: (120, 795)},
    "squat": {L.LEFT_KNEE: (150, 560), L.LEFT_ANKLE: (90, 700)},
    "lifted": {L.LEFT_KNEE: (140, 600), L.LEFT_ANKLE: (0, 650)},
    "lunge": {L.LEFT_KNEE: (170, 620), L.LEFT_ANKLE: (150, 800)},
    # the front leg of a deep lunge: thigh near horizontal, shin vertical
    "front_knee": {L.LEFT_KNEE: (220, 560), L.LEFT_ANKLE: (220, 800)},
    # a straight leg stretched out wide, as the back leg of a lunge
    "extended": {L.LEFT_KNEE: (110, 650), L.LEFT_ANKLE: (180, 800)},
    # knees bent out over the feet, heels down
    "plie": {L.LEFT_KNEE: (130, 640), L.LEFT_ANKLE: (100, 800)},
    # knee opened to the side, foot at the other (straight) leg's knee
    "passe": {L.LEFT_KNEE: (160, 560), L.LEFT_ANKLE: (-20, 640)},
    # foot kicked up behind: seen from the front the shin points away, knee down
    "kick_back": {L.LEFT_KNEE: (45, 650), L.LEFT_ANKLE: (45, 690)},
    # a squat seen from the front with the knee bent toward the camera: the
    # image shows a nearly straight leg, the depth (LEG_DEPTH) the bend
    "squat_toward_camera": {L.LEFT_KNEE: (45, 560), L.LEFT_ANKLE: (45, 700)},
    # a forward lunge seen from the front (LEG_DEPTH): the front thigh
    # reaches toward the camera, the rear knee is lowered and the rear foot is
    # far behind on its toes; the image shows two straight legs
    "lunge_front": {L.LEFT_KNEE: (40, 560), L.LEFT_ANKLE: (40, 800)},
    "lunge_rear": {L.LEFT_KNEE: (40, 750), L.LEFT_ANKLE: (40, 790)},
    # a straight-legged step, one foot forward and one back (the upright top
    # of a split squat), seen from the front
    "step_front": {L.LEFT_KNEE: (40, 650), L.LEFT_ANKLE: (40, 800)},
    "step_back": {L.LEFT_KNEE: (40, 650), L.LEFT_ANKLE: (40, 800)},
}
#: How far toward the camera (negative) or away each landmark of a leg shape
#: lies, in pixels, for a person facing the camera; the image does not show it.
LEG_DEPTH: dict[str, dict[L, float]] = {
    # the knees of a squat point forward, over the toes: not turned out
    "squat": {L.LEFT_KNEE: -200.0, L.LEFT_ANKLE: -60.0},
    "squat_toward_camera": {L.LEFT_KNEE: -220.0, L.LEFT_ANKLE: -60.0},
    "lunge_front": {L.LEFT_KNEE: -240.0, L.LEFT_ANKLE: -240.0},
    "lunge_rear": {L.LEFT_KNEE: 60.0, L.LEFT_ANKLE: 310.0},
    "step_front": {L.LEFT_KNEE: -110.0, L.LEFT_ANKLE: -220.0},
    "step_back": {L.LEFT_KNEE: 110.0, L.LEFT_ANKLE: 220.0},
}
#: Landmarks that ``torso_lean_deg`` tilts with the torso: everything above the hips.
UPPER_BODY = {landmark for landmark in L if landmark < L.LEFT_HIP}
MIRROR = {
    L.LEFT_EYE_INNER: L.RIGHT_EYE_INNER,
    L.LEFT_EYE: L.RIGHT_EYE,
    L.LEFT_EYE_OUTER: L.RIGHT_EYE_OUTER,
    L.LEFT_EAR: L.RIGHT_EAR,
    L.MOUTH_LEFT: L.MOUTH_RIGHT,
    L.LEFT_SHOULDER: L.RIGHT_SHOULDER,
    L.LEFT_HIP: L.RIGHT_HIP,
    L.LEFT_ELBOW: L.RIGHT_ELBOW,
    L.LEFT_WRIST: L.RIGHT_WRIST,
    L.LEFT_KNEE: L.RIGHT_KNEE,
    L.LEFT_ANKLE: L.RIGHT_ANKLE,
}


def skeleton(
    left_arm: str = "down",
    right_arm: str | None = None,
    left_leg: str = "straight",
    right_leg: str | None = None,
    *,
    facing: str = "front",
    mirrored: bool = False,
    lean_deg: float = 0.0,
    torso_lean_deg: float = 0.0,
    visibility: float = 0.99,
) -> np.ndarray:
    """A ``(33, 4) float32`` pose in pixels.

    Args:
        left_arm, right_arm: keys of ``ARMS`` for the person's left and right
            arm (right defaults to the same as left).
        left_leg, right_leg: keys of ``LEGS``.
        facing: ``front`` (the person's left is on the image's right, as a
            camera facing them sees it) or ``back``.
        mirrored: flip the image horizontally (a selfie-mode video).
        lean_deg: rotate the whole body about the hip centre by this angle.
        torso_lean_deg: tilt the upper body (head, shoulders, arms) about the
            hip centre toward the person's left by this angle (negative:
            toward their right), legs unmoved.
        visibility: visibility of every landmark.

    Returns:
        ``(33, 7) float32``: pixels, visibility, world metres.
    """
    side = 1.0 if facing == "front" else -1.0
    depth = {landmark: side * z for landmark, z in LEG_DEPTH.get(left_leg, {}).items()}
    depth |= {MIRROR[landmark]: side * z for landmark, z in LEG_DEPTH.get(right_leg or left_leg, {}).items()}
    points = {L.NOSE: (0.0, 155.0)}
    parts = {**HEAD, **TORSO}
    left = {**parts, **ARMS[left_arm], **LEGS[left_leg]}
    right = {**parts, **ARMS[right_arm or left_arm], **LEGS[right_leg or left_leg]}
    for landmark, (dx, y) in left.items():
        points[landmark] = (side * dx, y)
    for landmark, (dx, y) in right.items():
        points[MIRROR[landmark]] = (-side * dx, y)
    for elbow, wrist, fingers in (
        (L.LEFT_ELBOW, L.LEFT_WRIST, (L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB)),
        (L.RIGHT_ELBOW, L.RIGHT_WRIST, (L.RIGHT_PINKY, L.RIGHT_INDEX, L.RIGHT_THUMB)),
    ):
        # the knuckles, a palm's length (KNUCKLES pixels) on along the forearm
        forearm = np.subtract(points[wrist], points[elbow])
        knuckles = np.add(points[wrist], forearm / np.linalg.norm(forearm) * KNUCKLES)
        for finger in fingers:
            points[finger] = (float(knuckles[0]), float(knuckles[1]))
    for ankle, heel, toe in (
        (L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
        (L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
    ):
        points[heel] = (points[ankle][0], points[ankle][1] + 10)
        points[toe] = (points[ankle][0] + 20 * side, points[ankle][1] + 15)
        depth[heel] = depth[toe] = depth.get(ankle, 0.0)
    out = np.zeros((33, 7), dtype=np.float32)
    rot, torso_rot = _rotation(lean_deg), _rotation(side * torso_lean_deg)
    for landmark, (dx, y) in points.items():
        offset = np.array([dx, y - 500.0])
        x, yy = rot @ (torso_rot @ offset if landmark in UPPER_BODY else offset)
        out[landmark, :4] = (CENTRE + x, 500.0 + yy, depth.get(landmark, 0.0), visibility)
    if mirrored:
        out[:, 0] = SIZE - out[:, 0]
    hips = (out[L.LEFT_HIP, :3] + out[L.RIGHT_HIP, :3]) / 2.0
    out[:, WORLD] = (out[:, :3] - hips) * METRES_PER_PIXEL
    return out


def _rotation(degrees: float) -> np.ndarray:
    """2 x 2 rotation in image coordinates (y down): positive turns "up" toward +x."""
    theta = np.radians(degrees)
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


#: Every way to see the same body: facing the camera or away, mirrored or not.
VIEWS = [
    {"facing": facing, "mirrored": mirrored} for facing in ("front", "back") for mirrored in (False, True)
]
