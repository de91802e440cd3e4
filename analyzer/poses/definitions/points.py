"""The body points and length units that pose definitions name.

Definitions never name the person's left or right. A *sided* point
(``knee``) is a landmark of the side a quantifier group is looking at, and
``other_knee`` is the same landmark on the other side; a *central* point
(``hips``, ``crown``) is the same whichever side is looked at. So a
definition reads the same whichever way the dancer faces and whether or not
the video is mirrored.

Every function takes detector landmarks ``(..., 33, 4 or 7) float32``
(``analyzer.landmarks.blazepose``), a ``side`` (0: "this" side is MediaPipe's left,
1: its right) and a space: ``image`` gives ``(..., 2)`` positions or
``(...)`` lengths in pixels, ``world`` ``(..., 3)`` positions or lengths in
metres from the world landmarks (all NaN when the array has none). Each
comes with a ``(...) bool`` that says whether the landmarks they come from
are visible (MediaPipe gives one visibility per landmark, used in both
spaces) and, in ``world``, present.
"""

from __future__ import annotations

import numpy as np

from analyzer.landmarks.blazepose import WORLD
from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.geometry import distance, visible

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
#: The fingertips lie one hand length from the wrist, toward the index and
#: pinky knuckles (MediaPipe's ``*_INDEX`` and ``*_PINKY`` landmarks mark the
#: knuckles, not the tips): hand length 0.108 H over torso 0.288 H (Drillis
#: and Contini), in torso lengths.
HAND_TORSO_RATIO = 0.375
#: Sided points estimated from several landmarks -> the landmarks they use.
ESTIMATED: dict[str, tuple[tuple[L, L, L], tuple[L, L, L]]] = {
    "fingertips": (
        (L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY),
        (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY),
    ),
}
CENTRAL = ("nose", "crown", *MIDPOINTS)
SIDED_NAMES = (*SIDED, *ESTIMATED)
POINTS = (*CENTRAL, *SIDED_NAMES, *(OTHER_PREFIX + name for name in SIDED_NAMES))
UNITS = ("torso", "head", "shin")
SPACES = ("image", "world")


def coordinates(landmarks: np.ndarray, space: str) -> np.ndarray:
    """``(..., 33, 2)`` image positions in pixels or ``(..., 33, 3)`` world
    positions in metres (NaN when ``landmarks`` has no world columns)."""
    if space == "image":
        return landmarks[..., :2]
    if landmarks.shape[-1] > WORLD.start:
        return landmarks[..., WORLD]
    return np.full((*landmarks.shape[:-1], 3), np.nan, dtype=landmarks.dtype)


def _known(landmarks: np.ndarray, space: str, *points: L) -> np.ndarray:
    """Visible, and in ``world`` present (a frame scored without world landmarks is not judged)."""
    seen = visible(landmarks, *points)
    if space == "world":
        seen &= ~np.isnan(coordinates(landmarks, space)[..., list(points), 0]).any(axis=-1)
    return seen


def _mid(positions: np.ndarray, a: L, b: L) -> np.ndarray:
    return (positions[..., a, :] + positions[..., b, :]) / 2.0


def is_sided(name: str) -> bool:
    """Whether a point name depends on the side a group looks at."""
    return name not in CENTRAL


def crown(landmarks: np.ndarray, space: str = "image") -> np.ndarray:
    """``(..., 2)`` estimated top of the head in pixels, or ``(..., 3)`` in
    metres (see ``CROWN_EYE_MOUTH_RATIO``)."""
    positions = coordinates(landmarks, space)
    eyes = _mid(positions, L.LEFT_EYE, L.RIGHT_EYE)
    mouth = _mid(positions, L.MOUTH_LEFT, L.MOUTH_RIGHT)
    return eyes + CROWN_EYE_MOUTH_RATIO * (eyes - mouth)


def point(landmarks: np.ndarray, name: str, side: int, space: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """Position of a named point in ``space`` and whether it is known.

    Raises:
        KeyError: an unknown name (the schema rules these out).
    """
    positions = coordinates(landmarks, space)
    if name == "nose":
        return positions[..., L.NOSE, :], _known(landmarks, space, L.NOSE)
    if name == "crown":
        return crown(landmarks, space), _known(landmarks, space, *HEAD)
    if name in MIDPOINTS:
        pair = MIDPOINTS[name]
        return _mid(positions, *pair), _known(landmarks, space, *pair)
    if name.startswith(OTHER_PREFIX):
        name, side = name[len(OTHER_PREFIX) :], 1 - side
    if name == "fingertips":
        return fingertips(landmarks, side, space)
    landmark = SIDED[name][side]
    return positions[..., landmark, :], _known(landmarks, space, landmark)


def fingertips(landmarks: np.ndarray, side: int, space: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """Estimated tips of one hand's fingers and whether they are known: one
    hand length (``HAND_TORSO_RATIO`` torso lengths) from the wrist, toward
    the midpoint of the index and pinky knuckles."""
    wrist, index, pinky = ESTIMATED["fingertips"][side]
    positions = coordinates(landmarks, space)
    toward = _mid(positions, index, pinky) - positions[..., wrist, :]
    torso, torso_known = unit_length(landmarks, "torso", space)
    length = np.linalg.norm(toward, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        tips = positions[..., wrist, :] + toward / np.where(length > 0, length, np.nan) * (
            HAND_TORSO_RATIO * torso[..., None]
        )
    return tips, _known(landmarks, space, wrist, index, pinky) & torso_known


def unit_length(landmarks: np.ndarray, unit: str, space: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """``(...)`` length of a body unit in pixels (``world``: metres) and whether it is known.

    - ``torso``: hip midpoint to shoulder midpoint, about 0.288 of body
      height (Drillis and Contini's segment proportions); unlike shoulder
      width it does not shrink when the person turns side-on.
    - ``head``: eye midpoint to mouth midpoint, the head's scale.
    - ``shin``: the shorter knee-to-ankle distance of the two legs, as in the
      "one foot up" rule of ``standing``; about 0.246 of body height.

    Raises:
        KeyError: an unknown unit (the schema rules these out).
    """
    positions = coordinates(landmarks, space)
    if unit == "torso":
        length = distance(_mid(positions, *MIDPOINTS["hips"]), _mid(positions, *MIDPOINTS["shoulders"]))
        return length, _known(landmarks, space, *MIDPOINTS["shoulders"], *MIDPOINTS["hips"])
    if unit == "head":
        eyes = _mid(positions, L.LEFT_EYE, L.RIGHT_EYE)
        mouth = _mid(positions, L.MOUTH_LEFT, L.MOUTH_RIGHT)
        return distance(eyes, mouth), _known(landmarks, space, *HEAD)
    if unit == "shin":
        shins = [distance(positions[..., knee, :], positions[..., ankle, :]) for knee, ankle in _SHINS]
        return np.minimum(*shins), _known(landmarks, space, *(p for shin in _SHINS for p in shin))
    raise KeyError(unit)


_SHINS = ((L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_KNEE, L.RIGHT_ANKLE))


#: World "up" (y points down in MediaPipe's world coordinates).
_UP = np.array([0.0, -1.0, 0.0], dtype=np.float32)


def body_axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The body's horizontal axes in the world: ``(..., 3)`` unit vectors
    ``side`` (along the line through the hip joints, seen from above) and
    ``front`` (square to it: the way the pelvis faces, or the opposite way,
    which no measure tells apart), and whether they are known (both hips
    visible, with world landmarks, and not one above the other).

    The pelvis, not the shoulders or feet, sets the body's front: in a
    lunge the hips stay square to the stride while the arms may turn.
    """
    positions = coordinates(landmarks, "world")
    hip_line = (positions[..., L.LEFT_HIP, :] - positions[..., L.RIGHT_HIP, :]) * np.array(
        [1.0, 0.0, 1.0], dtype=np.float32
    )
    length = np.linalg.norm(hip_line, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        side = hip_line / np.where(length > 0, length, np.nan)
    front = np.cross(side, _UP)
    known = _known(landmarks, "world", L.LEFT_HIP, L.RIGHT_HIP) & (length[..., 0] > 0)
    return side, front, known
