"""Annotated video rendering (``analyzer.render.annotate``, ``analyzer.render.skeleton``):
a real clip analyzed by the real model, rendered, then decoded again."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from mediapipe.tasks.python.vision.pose_landmarker import PoseLandmarksConnections

from analyzer import AnalysisOptions, AnalysisResult, LandmarkPool, analyze_video
from analyzer.render.annotate import render_annotated
from analyzer.render.overlay import NO_POSE, Overlay, overlay_from_analysis, overlay_from_result
from analyzer.render.skeleton import COLOURS, LEFT, MIDDLE, POSE_CONNECTIONS, RIGHT
from tests.conftest import ROOT, video
from tests.test_api import ARM_CIRCLES, mp4_boxes


def test_connections_are_mediapipes() -> None:
    assert tuple((c.start, c.end) for c in PoseLandmarksConnections.POSE_LANDMARKS) == POSE_CONNECTIONS


def test_colours_follow_the_side_of_the_body() -> None:
    assert COLOURS[0] == MIDDLE
    assert [COLOURS[i] for i in (2, 7, 11, 15, 23, 27, 31)] == [LEFT] * 7
    assert [COLOURS[i] for i in (5, 8, 12, 16, 24, 28, 32)] == [RIGHT] * 7


def frame(index: int, landmarks: Any = None) -> dict[str, Any]:
    return {"frame_index": index, "timestamp_ms": index * 100.0, "landmarks": landmarks, "scores": {}}


def test_overlay_holds_the_last_analyzed_frame() -> None:
    """With sampling, frames between analyzed ones show the last analyzed one."""
    person = [[0.5, 0.5, 0.0, 1.0]] * 33
    analysis = {
        "detected_poses": {"t_pose": [3], "standing": [0, 3]},
        "frames": [frame(0, person), frame(3, None)],
    }
    overlay = overlay_from_analysis(analysis)
    assert overlay.labels == ("standing", "standing, t_pose")
    assert overlay.at(0)[1] == overlay.at(2)[1] == "standing"
    assert overlay.at(2)[0][0].tolist() == [0.5, 0.5, 0.0, 1.0]
    landmarks, label = overlay.at(7)
    assert np.isnan(landmarks).all() and label == "standing, t_pose"
    late = overlay_from_analysis({"detected_poses": {"t_pose": []}, "frames": [frame(2, person)]})
    assert late.at(1) is None and late.at(2)[1] == NO_POSE


def test_overlay_needs_frames() -> None:
    with pytest.raises(ValueError, match="include=frames"):
        overlay_from_analysis({"detected_poses": {}})


@pytest.fixture(scope="module")
def result(pool: LandmarkPool) -> AnalysisResult:
    """The real analysis of the 53-frame arm-circles clip, with frames."""
    return analyze_video(video(ARM_CIRCLES), pool, AnalysisOptions(include_frames=True))


@pytest.fixture(scope="module")
def analysis(result: AnalysisResult) -> dict[str, Any]:
    """Its JSON."""
    return result.to_dict()


def test_overlay_from_the_result_is_that_of_its_json(
    result: AnalysisResult, analysis: dict[str, Any], tmp_path: Path
) -> None:
    """The server's way (from the result, no JSON) and the command line's
    (from the JSON) agree, and an overlay survives its ``.npz`` file."""
    direct, parsed = overlay_from_result(result), overlay_from_analysis(analysis)
    assert direct.labels == parsed.labels
    assert "standing, t_pose" in direct.labels
    assert np.array_equal(direct.frame_indices, parsed.frame_indices)
    assert np.allclose(direct.landmarks, parsed.landmarks, atol=1e-4, equal_nan=True)
    direct.save(tmp_path / "overlay.npz")
    loaded = Overlay.load(tmp_path / "overlay.npz")
    assert loaded.labels == direct.labels
    assert np.array_equal(loaded.landmarks, direct.landmarks, equal_nan=True)
    assert np.array_equal(loaded.frame_indices, direct.frame_indices)
    with pytest.raises(ValueError, match="include_frames"):
        overlay_from_result(replace(result, frames=None))


def decode(path: Path) -> tuple[av.VideoStream, list[np.ndarray]]:
    """The video stream's parameters and every frame (RGB) of an MP4, with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [picture.to_ndarray(format="rgb24") for picture in container.decode(stream)]
        return stream.codec_context, frames


def test_render_real_clip(analysis: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "annotated.mp4"
    rendered = render_annotated(video(ARM_CIRCLES), overlay_from_analysis(analysis), out)
    assert (rendered.frames, rendered.width, rendered.height) == (53, 480, 848)

    codec, frames = decode(out)
    assert (codec.name, codec.pix_fmt, codec.width, codec.height) == ("h264", "yuv420p", 480, 848)
    assert len(frames) == analysis["video"]["frame_count"] == 53
    boxes = mp4_boxes(out.read_bytes())
    assert boxes["moov"][0] < boxes["mdat"][0], "not +faststart: the index comes after the media"

    # The skeleton is drawn where the landmarks are: the picture changed along
    # the bones and not far from them.
    capture = cv2.VideoCapture(str(video(ARM_CIRCLES)))
    for index in (0, 26, 52):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = capture.read()
        assert ok
        source = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.int16)
        change = np.abs(frames[index].astype(np.int16) - source).max(axis=2)
        landmarks = np.array(analysis["frames"][index]["landmarks"])
        visible = landmarks[:, 3] >= 0.5
        points = np.round(landmarks[visible, :2] * (480, 848)).astype(int)
        inside = (points[:, 0] >= 0) & (points[:, 0] < 480) & (points[:, 1] >= 0) & (points[:, 1] < 848)
        at_joints = [change[y - 1 : y + 2, x - 1 : x + 2].max() for x, y in points[inside]]
        assert np.median(at_joints) > 80, f"frame {index}: joints not drawn"
        near = np.zeros_like(change, dtype=bool)
        for x, y in points[inside]:
            near[max(0, y - 60) : y + 60, max(0, x - 60) : x + 60] = True
        near[:80, :260] = True  # the label
        assert np.percentile(change[~near], 99) < 40, f"frame {index}: changed away from the skeleton"


def test_odd_size_is_padded_to_even(tmp_path: Path) -> None:
    """4:2:0 H.264 needs even sizes: a 101 x 75 clip comes out 102 x 76."""
    clip = tmp_path / "odd.mkv"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("ffv1", 10)
        stream.width, stream.height, stream.pix_fmt = 101, 75, "yuv444p"
        for shade in range(7):
            picture = av.VideoFrame.from_ndarray(np.full((75, 101, 3), 30 * shade, np.uint8), format="rgb24")
            picture.pts = shade
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    analysis = {"detected_poses": {"t_pose": [1]}, "frames": [frame(i) for i in range(7)]}
    rendered = render_annotated(clip, overlay_from_analysis(analysis), tmp_path / "odd.mp4")
    assert (rendered.frames, rendered.width, rendered.height) == (7, 102, 76)
    codec, frames = decode(tmp_path / "odd.mp4")
    assert (codec.width, codec.height, len(frames)) == (102, 76, 7)


def test_command_line(analysis: dict[str, Any], tmp_path: Path) -> None:
    """``python -m analyzer.annotate`` renders from an analysis JSON, and
    answers the error envelope (exit 1) for one without frames."""

    def annotate(content: dict[str, Any], out: str) -> subprocess.CompletedProcess:
        (tmp_path / "analysis.json").write_text(json.dumps(content))
        return subprocess.run(
            [sys.executable, "-m", "analyzer.annotate", str(video(ARM_CIRCLES)),
             str(tmp_path / "analysis.json"), str(tmp_path / out)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = annotate(analysis, "out.mp4")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"frames": 53, "width": 480, "height": 848}
    assert len(decode(tmp_path / "out.mp4")[1]) == 53

    done = annotate({key: value for key, value in analysis.items() if key != "frames"}, "no.mp4")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "bad_input"
    assert not (tmp_path / "no.mp4").exists()
