"""The 33 BlazePose landmarks and the array layout the pipeline passes around.

A frame's pose is a ``(33, 4) float32`` array, one row per landmark in
MediaPipe's ``PoseLandmark`` order, columns ``x, y, z, visibility``:

- from the landmarker (``analyzer.landmarks.landmarker``): ``x``/``y`` normalized to
  [0, 1] of the frame width/height, ``z`` in the same scale as ``x``, and
  visibility in [0, 1];
- for detectors (``to_pixels``): ``x``, ``y``, ``z`` in pixels, so that
  angles are true angles on the frame whatever its aspect ratio, followed by
  the world landmarks when the caller has them: ``(33, 7)``, columns
  ``x, y, z, visibility, world x, world y, world z``.

World landmarks (``(33, 3) float32``, ``WORLD`` columns of the detector
array) are MediaPipe's ``pose_world_landmarks``: metres, origin at the
midpoint of the hips, x to the image's right, y down, z away from the
camera (MediaPipe's pose landmarker guide: "real-world 3-dimensional
coordinates in meters, with the midpoint of the hips as the origin").
They keep a bend toward the camera that the image flattens, at the cost of
a depth that the model infers from one image (see docs/poses.md).

The enum mirrors ``mediapipe.tasks.python.vision.PoseLandmark`` (a test
checks that they agree) so that pose logic does not import mediapipe.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33
X, Y, Z, VISIBILITY = range(4)
#: Columns of the world landmarks (metres) in a detector array ``(..., 33, 7)``.
WORLD = slice(4, 7)
#: How far past the frame's edge a landmark may lie, as a fraction of the
#: frame's width or height, and still count as in view. A landmark is a joint
#: centre: when the wrist is just past the top edge, the hand is at the edge
#: and the rest of the arm is in view, and MediaPipe's visibility for it
#: stays high; farther out, the body part is out of frame.
OUT_OF_FRAME_MARGIN = 0.05


class Landmark(IntEnum):
    """BlazePose landmark indices, named as in MediaPipe's ``PoseLandmark``."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


def to_pixels(landmarks: np.ndarray, width: int, height: int, world: np.ndarray | None = None) -> np.ndarray:
    """Scale normalized landmarks to pixels, for detectors.

    Args:
        landmarks: ``(..., 33, 4) float32``, x/y normalized [0, 1], z in x's
            scale, visibility [0, 1]; NaN rows for frames without a person.
        width: frame width in pixels.
        height: frame height in pixels.
        world: ``(..., 33, 3) float32`` world landmarks in metres of the same
            frames, appended as the ``WORLD`` columns; ``None`` leaves them out.

    Returns:
        A new ``(..., 33, 4) float32`` array (``(..., 33, 7)`` with ``world``)
        with x, y, z in pixels (z scaled
        by the width: MediaPipe gives z "using roughly the same scale as x").
        Visibility is kept, except that landmarks more than
        ``OUT_OF_FRAME_MARGIN`` outside the frame get 0: a body part out of
        frame cannot be judged.
    """
    pixels = landmarks * np.array([width, height, width, 1.0], dtype=np.float32)
    xy = landmarks[..., :2]
    outside = np.any((xy < -OUT_OF_FRAME_MARGIN) | (xy > 1.0 + OUT_OF_FRAME_MARGIN), axis=-1)
    pixels[..., VISIBILITY] = np.where(outside, 0.0, pixels[..., VISIBILITY])
    if world is not None:
        pixels = np.concatenate([pixels, world.astype(np.float32)], axis=-1)
    return pixels.astype(np.float32)
