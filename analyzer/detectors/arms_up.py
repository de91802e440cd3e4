"""``arms_up``: both hands raised above the top of the head.

GUIDE.md: "BOTH hands are raised above the top of the head (higher than the
crown), arms lifted overhead, straight or bent (V shape, hands together,
jumping-jack top). Hands on or behind the head, or at ear level, are not
arms up. One arm up is not arms up."
"""

from __future__ import annotations

import numpy as np

from analyzer.detectors.registry import register
from analyzer.geometry import distance, judged, midpoint, ramp, visible
from analyzer.landmarks import Landmark, Y

#: The crown lies this many eye-to-mouth distances beyond the eyes, along the
#: mouth-to-eyes line (so it follows a tilted head). In the classical head
#: canon the eyes sit at half the head height and the mouth about 0.8 of the
#: way down, so crown-to-eyes / eyes-to-mouth = 0.5 / 0.3, about 1.7.
CROWN_EYE_MOUTH_RATIO = 1.7
#: Softness of the "above the crown" threshold, in eye-to-mouth distances.
CROWN_SOFTNESS = 0.5

HEAD = (Landmark.LEFT_EYE, Landmark.RIGHT_EYE, Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT)
WRISTS = (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST)


def crown(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimated top of the head, ``(..., 2)`` in pixels, and the ``(...)``
    eye-to-mouth distance in pixels (the head's scale)."""
    eyes = midpoint(landmarks, Landmark.LEFT_EYE, Landmark.RIGHT_EYE)
    mouth = midpoint(landmarks, Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT)
    return eyes + CROWN_EYE_MOUTH_RATIO * (eyes - mouth), distance(eyes, mouth)


@register("arms_up", "Both hands raised above the top of the head.")
def arms_up(landmarks: np.ndarray) -> np.ndarray:
    """Score ``arms_up`` on ``(..., 33, 4) float32`` landmarks in pixels.

    Both wrists must be higher in the image than the estimated crown
    (``crown``); the lower wrist decides, measured in eye-to-mouth
    distances. NaN where a wrist, an eye or a mouth corner is not visible.
    """
    top, head = crown(landmarks)
    lower_wrist = np.maximum(*(landmarks[..., wrist, Y] for wrist in WRISTS))
    with np.errstate(invalid="ignore", divide="ignore"):
        above_crown = (top[..., 1] - lower_wrist) / np.where(head > 0, head, np.nan)
    score = ramp(above_crown, 0.0, CROWN_SOFTNESS, above=True)
    return judged(score, visible(landmarks, *HEAD, *WRISTS))
