"""What is compared: the direction of each limb and torso bone in pixel space.

A bone is the segment between two landmarks. Its direction is taken in
pixels (``x * width``, ``y * height``), so that a frame's aspect ratio does
not bend it, and scaled to unit length, so that the person's size in the
frame (camera distance) and place in the frame drop out. What is left is the
posture: the angle of each bone on the picture.

A landmark whose visibility is below ``VISIBILITY_THRESHOLD`` (or that lies
out of the frame, as ``to_pixels`` decides) is missing, and so is every bone
that ends at it. Gaps up to ``MAX_GAP_MS`` are filled by interpolating the
direction over time; longer gaps stay missing (NaN) and are left out of the
score.
"""

from __future__ import annotations

import numpy as np

from analyzer.compare.sequence import PoseSequence
from analyzer.landmarks.blazepose import VISIBILITY, Landmark, X, to_pixels

#: Landmarks below this visibility are missing. MediaPipe's own drawing
#: utilities skip landmarks under 0.5 (``_VISIBILITY_THRESHOLD`` in
#: ``mediapipe/python/solutions/drawing_utils.py``); the same cut here.
VISIBILITY_THRESHOLD = 0.5
#: Longest gap in a bone's track, in ms, filled by interpolation. A fifth of
#: a second is under one beat at 300 bpm, so a filled gap cannot hide a move.
MAX_GAP_MS = 200.0

L = Landmark
#: Bones as (from landmark, to landmark), grouped by body part. The torso
#: bones are its outline: shoulder line, hip line and the two flanks.
BODY_PARTS: dict[str, tuple[tuple[Landmark, Landmark], ...]] = {
    "left_arm": ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST)),
    "right_arm": ((L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST)),
    "left_leg": ((L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE)),
    "right_leg": ((L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE)),
    "torso": (
        (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
        (L.LEFT_HIP, L.RIGHT_HIP),
        (L.LEFT_SHOULDER, L.LEFT_HIP),
        (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    ),
}
#: Every bone, in ``BODY_PARTS`` order; the feature axis of ``bone_directions``.
BONES: tuple[tuple[Landmark, Landmark], ...] = tuple(bone for bones in BODY_PARTS.values() for bone in bones)
#: Body part -> indices of its bones in ``BONES``.
BODY_PART_BONES: dict[str, np.ndarray] = {}
_start = 0
for _name, _bones in BODY_PARTS.items():
    BODY_PART_BONES[_name] = np.arange(_start, _start + len(_bones))
    _start += len(_bones)

#: Landmark order after mirroring: each left landmark takes its right twin's
#: place and the other way round (nose and others without a twin stay).
MIRROR_ORDER = np.array(
    [
        Landmark[name.replace("LEFT", "RIGHT")]
        if "LEFT" in name
        else Landmark[name.replace("RIGHT", "LEFT")]
        if "RIGHT" in name
        else Landmark[name]
        for name in Landmark.__members__
    ]
)


def mirror(landmarks: np.ndarray) -> np.ndarray:
    """The landmarks of the mirror image: x reflected (``1 - x``) and left and
    right landmarks swapped, as MediaPipe labels a horizontally flipped video.

    Args:
        landmarks: ``(n, 33, 4) float32``, x normalized [0, 1].

    Returns:
        A new ``(n, 33, 4) float32`` array.
    """
    mirrored = landmarks[:, MIRROR_ORDER].copy()
    mirrored[..., X] = 1.0 - mirrored[..., X]
    return mirrored


def bone_directions(sequence: PoseSequence, *, mirrored: bool = False) -> np.ndarray:
    """Unit direction of every bone in every frame, in pixel space.

    Args:
        sequence: the landmarks.
        mirrored: use the mirror image of the landmarks (``mirror``).

    Returns:
        ``(n, len(BONES), 2) float64`` unit vectors (x right, y down, in
        pixels before scaling to unit length); NaN where the bone is missing
        after ``fill_gaps``.
    """
    landmarks = mirror(sequence.landmarks) if mirrored else sequence.landmarks
    pixels = to_pixels(landmarks, sequence.width, sequence.height).astype(np.float64)
    visible = pixels[..., VISIBILITY] >= VISIBILITY_THRESHOLD  # NaN compares False
    start = np.array([a for a, _ in BONES])
    end = np.array([b for _, b in BONES])
    vectors = pixels[:, end, :2] - pixels[:, start, :2]
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    present = visible[:, start] & visible[:, end] & (length[..., 0] > 0)
    directions = np.where(present[..., None], vectors / np.where(length > 0, length, 1.0), np.nan)
    return fill_gaps(directions, sequence.timestamps_ms)


def fill_gaps(
    directions: np.ndarray, timestamps_ms: np.ndarray, max_gap_ms: float = MAX_GAP_MS
) -> np.ndarray:
    """Fill each bone's missing frames between two present ones, where the
    present frames are at most ``max_gap_ms`` apart, by interpolating the
    direction linearly in time and scaling it back to unit length. Frames
    before the first or after the last present frame stay missing.

    Args:
        directions: ``(n, bones, 2) float64`` unit vectors, NaN where missing.
        timestamps_ms: ``(n,) float64`` increasing.
        max_gap_ms: longest span between the present frames around a gap.

    Returns:
        A new array of the same shape.
    """
    filled = directions.copy()
    for bone in range(directions.shape[1]):
        present = ~np.isnan(directions[:, bone, 0])
        index = np.flatnonzero(present)
        if index.size < 2 or index.size == present.size:
            continue
        after = np.searchsorted(index, np.arange(present.size))  # first present frame at or after
        inside = ~present & (after > 0) & (after < index.size)
        before_i = index[np.clip(after - 1, 0, index.size - 1)]
        after_i = index[np.clip(after, 0, index.size - 1)]
        short = inside & (timestamps_ms[after_i] - timestamps_ms[before_i] <= max_gap_ms)
        for axis in range(2):
            filled[short, bone, axis] = np.interp(
                timestamps_ms[short], timestamps_ms[index], directions[index, bone, axis]
            )
        norm = np.linalg.norm(filled[short, bone], axis=-1, keepdims=True)
        filled[short, bone] = filled[short, bone] / np.where(norm > 0, norm, 1.0)
    return filled
