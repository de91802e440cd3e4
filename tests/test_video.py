"""Video input: decoded frame counts, rotation metadata, fps guard, sniffing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from analyzer.errors import NotAVideoError, UndecodableVideoError
from analyzer.landmarks.landmarker import create_landmarker, run_landmarker
from analyzer.landmarks.tasks import LandmarkTask
from analyzer.video.probe import FALLBACK_FPS, safe_fps, sniff
from analyzer.video.reader import FrameReader, iter_frames
from tests.conftest import video

ARM_CIRCLES = "arm_circles_tpose_portrait_480x848_10fps.mp4"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def rotated_phone_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portrait clip stored as landscape pixels (turned 90 degrees
    clockwise) with rotation metadata that turns it back, as phones
    record."""
    folder = tmp_path_factory.mktemp("rotated")
    landscape, path = folder / "landscape.mp4", folder / "phone.mp4"
    ffmpeg("-i", str(video(ARM_CIRCLES)), "-vf", "transpose=1", "-c:v", "libx264", str(landscape))
    ffmpeg("-i", str(landscape), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    return path


def test_frames_are_counted_by_decoding_not_by_the_container():
    # A fragmented MP4: the container claims 270 frames, 267 decode.
    frames = sum(1 for _ in iter_frames(video("dance_trio_office_portrait_720x1280_fragmented.mp4")))
    assert frames == 267


def test_timestamps_follow_the_frame_rate():
    frames = list(iter_frames(video(ARM_CIRCLES), start=10, stop=13))
    assert [f.index for f in frames] == [10, 11, 12]
    assert [f.timestamp_ms for f in frames] == [1000.0, 1100.0, 1200.0]
    assert frames[0].rgb.shape == (848, 480, 3)


def test_seeking_lands_on_the_frame_on_a_constant_frame_rate_only(variable_rate_video: Path):
    """OpenCV seeks by timestamp: exact at a constant frame rate, off after a
    pause in the timestamps (why analyzer.pipeline checks where it landed)."""
    constant_rate = video("dance_hiphop_solo_portrait_718x1280.mp4")
    for path, lands in ((constant_rate, True), (variable_rate_video, False)):
        decoded = [f.fingerprint for f in FrameReader(path, start=215, stop=235)]
        sought = [f.fingerprint for f in FrameReader(path, start=215, stop=235, seek=True)]
        assert len(sought) == len(decoded) == 20
        assert (sought == decoded) is lands, path.name


def test_rotation_metadata_is_honoured(rotated_phone_video: Path, model_path: Path):
    stored = next(iter_frames(rotated_phone_video))
    assert stored.rgb.shape == (848, 480, 3), "frames must come out upright (portrait)"
    with create_landmarker(model_path.read_bytes()) as landmarker:
        run = run_landmarker(landmarker, LandmarkTask(str(rotated_phone_video), stop_frame=5))
    assert (run.width, run.height) == (480, 848)
    shoulders_y = run.landmarks[:, 11:13, 1].mean()
    ankles_y = run.landmarks[:, 27:29, 1].mean()
    assert ankles_y - shoulders_y > 0.4, "the person must be upright in the decoded frames"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30.0, 30.0),
        (59.94, 59.94),
        (0.0, FALLBACK_FPS),
        (float("nan"), FALLBACK_FPS),
        (-5.0, FALLBACK_FPS),
        (90000.0, FALLBACK_FPS),
    ],
)
def test_unusable_frame_rates_fall_back(value, expected):
    assert safe_fps(value) == expected


def test_sniffing_accepts_videos_by_content(tmp_path: Path):
    renamed = tmp_path / "clip.txt"
    renamed.write_bytes(video(ARM_CIRCLES).read_bytes())
    assert sniff(renamed) == "video/mp4"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"hello, this is not a video\n" * 10, "not a video"),
        (np.random.default_rng(1).bytes(4096), "not a video"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
    ],
)
def test_sniffing_rejects_other_content(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    with pytest.raises(NotAVideoError, match=message):
        sniff(path)


def test_a_truncated_video_does_not_decode(tmp_path: Path, model_path: Path):
    path = tmp_path / "truncated.mp4"
    path.write_bytes(video(ARM_CIRCLES).read_bytes()[:3000])
    with pytest.raises(UndecodableVideoError), create_landmarker(model_path.read_bytes()) as landmarker:
        run_landmarker(landmarker, LandmarkTask(str(path)))
