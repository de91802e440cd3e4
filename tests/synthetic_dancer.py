"""A synthetic dancer: landmark sequences made from joint angles over time,
for the comparison's unit tests, where the truth must be known exactly."""

from __future__ import annotations

import numpy as np

from analyzer.compare import PoseSequence
from analyzer.landmarks import Landmark

L = Landmark


def angles_at(t_s: np.ndarray) -> dict[str, np.ndarray]:
    """Joint angles in radians (0: pointing down the picture) of a dance that
    never repeats within 20 s: sums of sines of incommensurate periods."""
    return {
        "left_upper_arm": 1.2 + 1.0 * np.sin(2.1 * t_s) + 0.4 * np.sin(0.7 * t_s),
        "left_forearm": 1.0 + 1.3 * np.sin(1.7 * t_s + 1.0),
        "right_upper_arm": -1.2 - 0.9 * np.sin(1.3 * t_s + 0.5) - 0.3 * np.sin(3.1 * t_s),
        "right_forearm": -1.1 - 1.2 * np.sin(2.3 * t_s + 2.0),
        "left_thigh": 0.2 + 0.35 * np.sin(1.9 * t_s),
        "left_shin": 0.1 + 0.4 * np.sin(2.9 * t_s + 0.3),
        "right_thigh": -0.2 - 0.35 * np.sin(1.1 * t_s + 1.5),
        "right_shin": -0.1 - 0.4 * np.sin(2.6 * t_s + 0.9),
        "lean": 0.15 * np.sin(0.9 * t_s),
    }


def dancer(
    times_ms: np.ndarray,
    *,
    width: int = 1080,
    height: int = 1920,
    scale: float = 1.0,
    centre: tuple[float, float] = (0.5, 0.5),
    angles: dict[str, np.ndarray] | None = None,
) -> PoseSequence:
    """Landmarks of the synthetic dance at ``times_ms``.

    The body is laid out in pixels (torso 300 px tall times ``scale``, centred
    at ``centre`` of the frame) and then normalized by ``width`` and
    ``height``, as MediaPipe reports it; every landmark has visibility 1.

    Returns:
        A sequence with ``(n, 33, 4) float32`` landmarks.
    """
    a = angles if angles is not None else angles_at(np.asarray(times_ms) / 1000.0)
    n = len(times_ms)
    unit = 100.0 * scale

    def towards(angle: np.ndarray, length: float) -> np.ndarray:
        return np.stack([np.sin(angle), np.cos(angle)], axis=-1) * length * unit

    hip_mid = np.tile([centre[0] * width, centre[1] * height + 1.5 * unit], (n, 1))
    spine = towards(np.pi + a["lean"], 3.0)  # up the picture
    shoulder_mid = hip_mid + spine
    across = np.stack([np.cos(a["lean"]), -np.sin(a["lean"])], axis=-1) * unit
    points = np.zeros((n, 33, 2))
    points[:] = shoulder_mid[:, None, :] - spine[:, None, :] * 0.25  # face and hands: near the head
    points[:, L.LEFT_SHOULDER] = shoulder_mid + across
    points[:, L.RIGHT_SHOULDER] = shoulder_mid - across
    points[:, L.LEFT_HIP] = hip_mid + 0.7 * across
    points[:, L.RIGHT_HIP] = hip_mid - 0.7 * across
    for side in ("left", "right"):
        shoulder, hip = points[:, L[f"{side.upper()}_SHOULDER"]], points[:, L[f"{side.upper()}_HIP"]]
        elbow = shoulder + towards(a[f"{side}_upper_arm"], 1.4)
        wrist = elbow + towards(a[f"{side}_forearm"], 1.3)
        knee = hip + towards(a[f"{side}_thigh"], 2.0)
        ankle = knee + towards(a[f"{side}_shin"], 2.0)
        points[:, L[f"{side.upper()}_ELBOW"]] = elbow
        points[:, L[f"{side.upper()}_WRIST"]] = wrist
        points[:, L[f"{side.upper()}_KNEE"]] = knee
        points[:, L[f"{side.upper()}_ANKLE"]] = ankle
    landmarks = np.ones((n, 33, 4), dtype=np.float32)
    landmarks[..., 0] = points[..., 0] / width
    landmarks[..., 1] = points[..., 1] / height
    landmarks[..., 2] = 0.0
    return PoseSequence(np.asarray(times_ms, dtype=np.float64), landmarks, width, height)


def frame_times(duration_s: float, fps: float, start_ms: float = 0.0) -> np.ndarray:
    """Timestamps in ms of a video of ``duration_s`` at ``fps``."""
    return start_ms + np.arange(int(duration_s * fps)) * 1000.0 / fps
