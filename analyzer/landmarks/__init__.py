"""Landmark stage: frames in, the 33 BlazePose landmarks per frame out.

Takes a video path and frame ranges (``LandmarkTask``). Gives, per analyzed
frame, ``(33, 4) float32`` landmarks ``[x, y, z, visibility]`` with x, y
normalized to [0, 1] and ``(33, 3) float32`` world landmarks in metres
(``LandmarkRun``), named by ``Landmark``. MediaPipe's
PoseLandmarker runs only in worker processes (``python -m
analyzer.landmarks.worker``) held by a ``LandmarkPool``, so importing this
package never imports MediaPipe; ``ModelInfo`` names the model file used.
"""

from analyzer.landmarks.blazepose import NUM_LANDMARKS, Landmark
from analyzer.landmarks.model import ModelInfo
from analyzer.landmarks.pool import LandmarkPool
from analyzer.landmarks.tasks import LandmarkRun, LandmarkTask

__all__ = ["NUM_LANDMARKS", "Landmark", "LandmarkPool", "LandmarkRun", "LandmarkTask", "ModelInfo"]
