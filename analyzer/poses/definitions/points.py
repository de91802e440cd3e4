"""The body points and length units that pose definitions name.

Definitions never name the person's left or right. A *sided* point
(``knee``) is a landmark of the side a quantifier group is looking at, and
``other_knee`` is the same landmark on the other side; a *central* point
(``hips``, ``crown``) is the same whichever side is looked at. So a
definition reads the same whichever way the dancer faces and whether or not
the video is mirrored.

Every function takes landmarks ``(..., 33, 4) float32`` in pixels and a
``side`` (0: "this" side is MediaPipe's left, 1: its right) and returns
``(..., 2)`` positions or ``(...)`` lengths in pixels, together with a
``(...) bool`` that says whether the landmarks they come from are visible.
"""

from __future__ import annotations

import numpy as np

from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.geometry import distance, midpoint, torso_length, visible, xy

#: Sided point name -> (left landmark, right landmark).
SIDED: dict[str, tuple[L, L]] = {
    "eye": (L.LEFT_EYE, L.RIGHT_EYE),
    "ear": (L.LEFT_EAR, L.RIGHT_EAR),
    "shoulder": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "elbow": (L.LEFT_ELBOW, L.RIGHT_ELBOW),
    "wrist": (L.LEFT_WRIST, L.RIGHT_WRIST),
    "pinky": (L.LEFT_PINKY, L.RIGHT_PINKY),
    "index": (L.LEFT_INDEX, L.RIGHT_INDEX),
    "thumb": (L.LEFT_THUMB, L.RIGHT_THUMB),
    "hip": (L.LEFT_HIP, L.RIGHT_HIP),
    "knee": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "ankle": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
    "heel": (L.LEFT_HEEL, L.RIGHT_HEEL),
    "foot_index": (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX),
}
OTHER_PREFIX = "other_"
#: Central point name -> the landmarks whose midpoint it is.
MIDPOINTS: dict[str, tuple[L, L]] = {
    "eyes": (L.LEFT_EYE, L.RIGHT_EYE),
    "ears": (L.LEFT_EAR, L.RIGHT_EAR),
    "mouth": (L.MOUTH_LEFT, L.MOUTH_RIGHT),
    "shoulders": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "hips": (L.LEFT_HIP, L.RIGHT_HIP),
    "knees": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "ankles": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
}
HEAD = (L.LEFT_EYE, L.RIGHT_EYE, L.MOUTH_LEFT, L.MOUTH_RIGHT)
#: The crown lies this many eye-to-mouth distances beyond the eyes, along the
#: mouth-to-eyes line (so it follows a tilted head). In the classical head
#: canon the eyes sit at half the head height and the mouth about 0.8 of the
#: way down, so crown-to-eyes / eyes-to-mouth = 0.5 / 0.3, about 1.7.
CROWN_EYE_MOUTH_RATIO = 1.7
CENTRAL = ("nose", "crown", *MIDPOINTS)
POINTS = (*CENTRAL, *SIDED, *(OTHER_PREFIX + name for name in SIDED))
UNITS = ("torso", "head", "shin")


def is_sided(name: str) -> bool:
    """Whether a point name depends on the side a group looks at."""
    return name not in CENTRAL


def crown(landmarks: np.ndarray) -> np.ndarray:
    """``(..., 2)`` estimated top of the head, in pixels (see ``CROWN_EYE_MOUTH_RATIO``)."""
    eyes = midpoint(landmarks, L.LEFT_EYE, L.RIGHT_EYE)
    mouth = midpoint(landmarks, L.MOUTH_LEFT, L.MOUTH_RIGHT)
    return eyes + CROWN_EYE_MOUTH_RATIO * (eyes - mouth)


def point(landmarks: np.ndarray, name: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    """``(..., 2)`` position of a named point and whether it is visible.

    Raises:
        KeyError: an unknown name (the schema rules these out).
    """
    if name == "nose":
        return xy(landmarks, L.NOSE), visible(landmarks, L.NOSE)
    if name == "crown":
        return crown(landmarks), visible(landmarks, *HEAD)
    if name in MIDPOINTS:
        pair = MIDPOINTS[name]
        return midpoint(landmarks, *pair), visible(landmarks, *pair)
    if name.startswith(OTHER_PREFIX):
        name, side = name[len(OTHER_PREFIX) :], 1 - side
    landmark = SIDED[name][side]
    return xy(landmarks, landmark), visible(landmarks, landmark)


def unit_length(landmarks: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``(...)`` length in pixels of a body unit and whether it is visible.

    - ``torso``: hip midpoint to shoulder midpoint (``geometry.torso_length``);
      about 0.288 of body height (Drillis and Contini's segment proportions).
    - ``head``: eye midpoint to mouth midpoint, the head's scale.
    - ``shin``: the shorter knee-to-ankle distance of the two legs, as in the
      "one foot up" rule of ``standing``; about 0.246 of body height.

    Raises:
        KeyError: an unknown unit (the schema rules these out).
    """
    if unit == "torso":
        return torso_length(landmarks), visible(landmarks, *MIDPOINTS["shoulders"], *MIDPOINTS["hips"])
    if unit == "head":
        eyes = midpoint(landmarks, L.LEFT_EYE, L.RIGHT_EYE)
        mouth = midpoint(landmarks, L.MOUTH_LEFT, L.MOUTH_RIGHT)
        return distance(eyes, mouth), visible(landmarks, *HEAD)
    if unit == "shin":
        shins = [distance(xy(landmarks, knee), xy(landmarks, ankle)) for knee, ankle in _SHINS]
        return np.minimum(*shins), visible(landmarks, *(p for shin in _SHINS for p in shin))
    raise KeyError(unit)


_SHINS = ((L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_KNEE, L.RIGHT_ANKLE))
