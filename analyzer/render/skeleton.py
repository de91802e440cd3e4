"""Drawing a pose on a frame: the 33-landmark skeleton and a label.

``POSE_CONNECTIONS`` are MediaPipe's ``PoseLandmarksConnections.POSE_LANDMARKS``
(a test checks that they agree, and that the web page draws the same ones),
so that drawing does not import mediapipe.
"""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.landmarks.blazepose import NUM_LANDMARKS, VISIBILITY, Landmark, X, Y

#: Pairs of landmark indices joined by a bone, in MediaPipe's order.
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip
#: Landmarks drawn only when MediaPipe's visibility reaches this (its drawing utils use 0.5 too).
MIN_VISIBILITY = 0.5
#: RGB colours: the person's left side, right side, and the middle (face, shoulders, hips).
LEFT, RIGHT, MIDDLE = (255, 138, 0), (0, 170, 255), (255, 255, 255)


#: Colour of each landmark, by the side of the body its name gives.
COLOURS: tuple[tuple[int, int, int], ...] = tuple(
    LEFT if "LEFT" in mark.name else RIGHT if "RIGHT" in mark.name else MIDDLE for mark in Landmark
)


def _bone_colour(start: int, end: int) -> tuple[int, int, int]:
    return COLOURS[start] if COLOURS[start] == COLOURS[end] else MIDDLE


def draw_skeleton(rgb: np.ndarray, landmarks: np.ndarray) -> None:
    """Draw the skeleton on a frame, in place.

    Args:
        rgb: ``(height, width, 3) uint8`` RGB image, written to.
        landmarks: ``(33, 4)`` x, y normalized to [0, 1], z, visibility; a
            row of NaN (no person) draws nothing. Landmarks below
            ``MIN_VISIBILITY`` and the bones that touch them are left out.
    """
    if landmarks.shape != (NUM_LANDMARKS, 4) or np.isnan(landmarks[0, X]):
        return
    height, width = rgb.shape[:2]
    thickness = max(2, round(min(width, height) / 200))
    points = np.round(landmarks[:, [X, Y]] * (width, height)).astype(np.int32)
    visible = landmarks[:, VISIBILITY] >= MIN_VISIBILITY
    for start, end in POSE_CONNECTIONS:
        if visible[start] and visible[end]:
            cv2.line(
                rgb,
                tuple(points[start]),
                tuple(points[end]),
                _bone_colour(start, end),
                thickness,
                cv2.LINE_AA,
            )
    for index in np.flatnonzero(visible):
        centre = tuple(points[index])
        cv2.circle(rgb, centre, thickness + 2, (20, 20, 20), -1, cv2.LINE_AA)
        cv2.circle(rgb, centre, thickness + 1, COLOURS[index], -1, cv2.LINE_AA)


def draw_label(rgb: np.ndarray, text: str) -> None:
    """Write ``text`` in the top-left corner on a dark translucent box, in place.

    The text size follows the frame's shorter side (about 1/16 of it).
    """
    height, width = rgb.shape[:2]
    scale = min(width, height) / 500
    thickness = max(1, round(scale * 2))
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(4, round(text_h * 0.5))
    x1, y1 = min(width, text_w + 3 * pad), min(height, text_h + baseline + 3 * pad)
    box = rgb[pad:y1, pad:x1]
    box[:] = (box.astype(np.uint16) * 2 // 5).astype(np.uint8)
    cv2.putText(
        rgb, text, (2 * pad, pad * 2 + text_h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
        thickness, cv2.LINE_AA,
    )  # fmt: skip
