"""``standing``: upright on the feet, supporting leg or legs nearly straight.

GUIDE.md: "torso roughly vertical (leaning less than about 30 degrees), and
the supporting leg or legs nearly straight (no squat, lunge, deep plie,
kneeling, sitting, lying, crawling). Arms do not matter."
"""

from __future__ import annotations

import numpy as np

from analyzer.body import supporting_leg_straight, upright
from analyzer.detectors.registry import register


@register(
    "standing",
    "Upright on the feet: torso within 30 degrees of vertical, supporting leg or legs nearly straight.",
)
def standing(landmarks: np.ndarray) -> np.ndarray:
    """Score ``standing`` on ``(..., 33, 4) float32`` landmarks in pixels.

    The minimum of ``analyzer.body.upright`` and
    ``analyzer.body.supporting_leg_straight``; NaN where either cannot be judged.
    """
    return np.minimum(upright(landmarks), supporting_leg_straight(landmarks))
