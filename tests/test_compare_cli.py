"""``python -m analyzer.compare REFERENCE PERFORMANCE`` as a real
subprocess with the real model: the comparison's JSON on stdout, a progress
bar on stderr, and the error envelope naming the video at fault."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, video
from tests.test_cli import ARM_CIRCLES, error_envelope


def run_compare(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m analyzer.compare ARGS`` from the project root, one worker."""
    return subprocess.run(
        [sys.executable, "-m", "analyzer.compare", "--workers", "1", *map(str, args)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def empty_room(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of a grey picture: a video with nobody in it."""
    path = tmp_path_factory.mktemp("empty") / "grey.mp4"
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=320x240:d=2:r=10"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


def test_prints_the_comparison_and_a_progress_bar(model_path: Path) -> None:
    clip = video(ARM_CIRCLES)
    result = run_compare(clip, clip)
    assert result.returncode == 0, result.stderr[-2000:]
    body = json.loads(result.stdout)
    assert body["score"] >= 99.5 and body["mirrored"] is False
    assert set(body["body_parts"]) == {"left_arm", "right_arm", "left_leg", "right_leg", "torso"}
    assert set(body["timing"]) == {"offset_ms", "tempo_ratio", "mean_abs_lag_ms"}
    assert body["reference"]["filename"] == ARM_CIRCLES and body["reference"]["frames"] == 53
    assert body["segments"] and body["path"][0] == [0.0, 0.0]
    assert "frames" not in body
    assert "comparing" in result.stderr and "106/106" in result.stderr


def test_names_the_video_without_a_person(model_path: Path, empty_room: Path) -> None:
    error = error_envelope(run_compare(video(ARM_CIRCLES), empty_room))
    assert error["code"] == "insufficient_pose"
    assert "performance video (grey.mp4)" in error["message"] and "0%" in error["message"]


def test_names_the_video_that_is_not_one(model_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 10)
    error = error_envelope(run_compare(text, video(ARM_CIRCLES)))
    assert error["code"] == "not_a_video"
    assert error["message"].startswith("reference video: ")


@pytest.mark.parametrize("value", ["5e-324", "0.0009", "nan", "inf", "fast"])
def test_a_sample_rate_below_the_floor_is_a_usage_error(value: str) -> None:
    """Both command lines hold the floor the API holds (``MIN_SAMPLE_FPS``):
    the compare one took any rate above 0, so ``5e-324`` made the frame
    interval infinite."""
    clip = video(ARM_CIRCLES)
    for command in ([sys.executable, "-m", "analyzer"], [sys.executable, "-m", "analyzer.compare"]):
        paths = [clip] if command[-1] == "analyzer" else [clip, clip]
        result = subprocess.run(
            [*command, *map(str, paths), "--sample-fps", value],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and result.stdout == "", (command, result.stdout)
        assert "--sample-fps" in result.stderr and "at least 0.001" in result.stderr, result.stderr
