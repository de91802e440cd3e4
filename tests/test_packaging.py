"""What gets installed: headless OpenCV only, and landmark names as MediaPipe's."""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

import cv2
from mediapipe.tasks.python.vision.pose_landmarker import PoseLandmark

from analyzer.landmarks.blazepose import Landmark


def test_only_headless_opencv_is_installed():
    installed = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    assert "opencv-python-headless" in installed
    assert not installed & {"opencv-contrib-python", "opencv-python", "opencv-contrib-python-headless"}
    files = importlib.metadata.files("opencv-python-headless") or []
    assert any(Path(cv2.__file__).name == Path(str(f)).name for f in files)


def test_cv2_does_not_link_libgl():
    binaries = list(Path(cv2.__file__).parent.glob("cv2*.so"))
    assert binaries
    linked = subprocess.run(["ldd", str(binaries[0])], capture_output=True, text=True, check=True).stdout
    assert "libGL" not in linked


def test_landmark_names_match_mediapipe():
    assert [(m.name, m.value) for m in Landmark] == [(m.name, m.value) for m in PoseLandmark]
