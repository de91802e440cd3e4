"""The command line, ``python -m analyzer VIDEO``, run as a real subprocess
with the real model: the same JSON as ``POST /analyze``, the error envelope
and exit status 1 on bad input, a progress bar on stderr only, and no
landmark worker process left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from analyzer.poses.detectors import available
from tests.conftest import ROOT, Server, video

ARM_CIRCLES = "arm_circles_tpose_portrait_480x848_10fps.mp4"  # 53 frames
ARM_RAISES = "arm_raise_jumps_phone_portrait_352x640.mp4"  # 273 frames, arms up 12 times
MARK = "DANCEPOSE_CLI_TEST_MARK"


def run_cli(*args: str | Path, mark: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m analyzer ARGS`` from the project root; ``mark`` is put in
    its environment (and so its workers'), to find its processes later."""
    env = {**os.environ, MARK: mark or uuid.uuid4().hex}
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def processes_marked(mark: str) -> list[int]:
    """Live processes whose environment carries ``MARK=mark``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def error_envelope(result: subprocess.CompletedProcess) -> dict[str, str]:
    """The CLI failed cleanly: status 1, only the error envelope on stdout, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    body = json.loads(result.stdout)
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message"], body
    assert body["error"]["code"] and body["error"]["message"], body
    return body["error"]


def without_timing(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    assert isinstance(body.pop("processing_s"), float | int)
    return body


def test_cli_prints_the_same_json_as_http(server: Server) -> None:
    clip = video(ARM_RAISES)
    http: dict[str, requests.Response] = {}

    def upload() -> None:
        http["response"] = requests.post(
            server.url + "/analyze",
            files={"video": (clip.name, clip.read_bytes(), "video/mp4")},
            headers={"Connection": "close"},
            timeout=300,
        )

    thread = threading.Thread(target=upload)  # runs alongside the CLI: 2 cores, 2 processes
    thread.start()
    mark = uuid.uuid4().hex
    result = run_cli(clip, "--no-progress", mark=mark)
    thread.join(300)
    assert not thread.is_alive()

    assert result.returncode == 0, result.stderr[-3000:]
    assert "analyzing" not in result.stderr, "--no-progress still drew a progress bar"
    cli = json.loads(result.stdout)  # all of stdout is the JSON, nothing else
    response = http["response"]
    assert response.status_code == 200, response.text
    served = response.json()

    assert cli["video"]["filename"] == clip.name == served["video"]["filename"]
    assert cli["total_frames"] == 273
    # The comparison is not between two empty answers.
    assert len(cli["detected_poses"]["arms_up"]) >= 30
    assert sum(segment["pose"] == "arms_up" for segment in cli["segments"]) >= 8
    # Field by field first, for a readable failure, then the whole document.
    for key in ("video", "model", "total_frames", "processed_frames", "frames_with_person"):
        assert cli[key] == served[key], key
    assert cli["detected_poses"] == served["detected_poses"]
    assert cli["pose_summary"] == served["pose_summary"]
    assert cli["segments"] == served["segments"]
    assert without_timing(cli) == without_timing(served)
    assert list(cli) == list(served), "the key order differs"

    assert processes_marked(mark) == [], "the CLI left a landmark worker running"


@pytest.fixture(scope="module")
def progress_run() -> subprocess.CompletedProcess:
    """The short clip with a progress bar, two poses and per-frame detail."""
    result = run_cli(video(ARM_CIRCLES), "--poses", "standing,t_pose", "--include", "frames")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_cli_progress_bar_on_stderr_json_on_stdout(progress_run: subprocess.CompletedProcess) -> None:
    body = json.loads(progress_run.stdout)
    assert sorted(body["detected_poses"]) == ["standing", "t_pose"]
    assert [entry["pose"] for entry in body["pose_summary"]] == ["standing", "t_pose"]
    assert len(body["frames"]) == body["total_frames"] == 53
    assert all(sorted(frame["scores"]) == ["standing", "t_pose"] for frame in body["frames"])
    assert all(len(frame["landmarks"]) == 33 for frame in body["frames"] if frame["landmarks"])
    bar = progress_run.stderr.replace("\r", "\n")
    assert "analyzing" in bar and "/53" in bar, bar[-2000:]


def test_cli_progress_bar_reaches_the_end(progress_run: subprocess.CompletedProcess) -> None:
    assert "53/53" in progress_run.stderr.replace("\r", "\n")


def test_cli_text_file_is_not_a_video(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video, whatever the name says\n" * 10)
    error = error_envelope(run_cli(notes, "--no-progress"))
    assert error["code"] == "not_a_video"


def test_cli_undecodable_video(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video(ARM_CIRCLES).read_bytes()[:8192])  # header, no index, almost no frames
    mark = uuid.uuid4().hex
    error = error_envelope(run_cli(broken, "--no-progress", mark=mark))
    assert error["code"] == "undecodable_video"
    assert processes_marked(mark) == [], "the CLI left a landmark worker running"


def test_cli_unknown_pose(tmp_path: Path) -> None:
    error = error_envelope(run_cli(video(ARM_CIRCLES), "--poses", "arms_up,bogus", "--no-progress"))
    assert error["code"] == "unknown_pose"
    assert "bogus" in error["message"]
    for name in available():
        assert name in error["message"], error["message"]


def test_cli_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-video.mp4"
    error = error_envelope(run_cli(missing, "--no-progress"))
    assert "no-such-video.mp4" in error["message"]


def test_cli_bad_include_is_a_usage_error() -> None:
    result = run_cli(video(ARM_CIRCLES), "--include", "bogus")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr and "--include" in result.stderr


def test_evaluate_without_a_model_says_so_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "POSE_MODEL_PATH": str(tmp_path / "missing.task")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "analyzer.tools.evaluate",
            "tests/labels/poses.csv",
            str(video(ARM_CIRCLES).parent),
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: " in result.stderr and "missing.task" in result.stderr
    assert "Traceback" not in result.stderr
