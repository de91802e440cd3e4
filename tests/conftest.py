"""Shared fixtures: the real model, the shared videos and labels, a pool of
real landmark workers, and a real gunicorn server process."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from analyzer.landmarks.pool import LandmarkPool

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DANCEPOSE_SHARED_DIR", ROOT.parent / "shared"))
VIDEOS = SHARED / "videos"
LABELS = SHARED / "labels" / "shared.csv"


def video(name: str) -> Path:
    """Path of a shared test video by file name."""
    path = VIDEOS / name
    if not path.is_file():
        pytest.fail(f"shared test video missing: {path}")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The local model file the tests run on (``POSE_MODEL_PATH``)."""
    value = os.environ.get("POSE_MODEL_PATH")
    if not value or not Path(value).is_file():
        pytest.fail("set POSE_MODEL_PATH to a pose_landmarker_full.task file (make test does)")
    return Path(value)


@pytest.fixture(scope="session")
def labels() -> list[dict[str, str]]:
    """Rows of ``shared/labels/shared.csv``."""
    with LABELS.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def document() -> dict[str, Any]:
    """The OpenAPI document of an app with the default configuration
    (modules that need another override it)."""
    from server import create_app

    return create_app().test_client().get("/openapi.json").get_json()


@pytest.fixture(scope="session")
def pool(model_path: Path) -> Iterator[LandmarkPool]:
    """Two started landmark workers (one per core) for the whole session."""
    landmark_pool = LandmarkPool(2)
    landmark_pool.start()
    yield landmark_pool
    landmark_pool.close()


@pytest.fixture(scope="session")
def variable_rate_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hip-hop clip (459 frames at 30 fps) with a one-second pause in its
    timestamps after frame 100, as variable-frame-rate phone videos have:
    frame numbers taken from timestamps are off by 30 after it."""
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    source = str(video("dance_hiphop_solo_portrait_718x1280.mp4"))
    subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-i",
            source,
            "-vf",
            "setpts='N/30/TB+gte(N,100)/TB'",
            "-fps_mode",
            "passthrough",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            str(path),
        ],
        check=True,
    )
    return path


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real gunicorn process serving ``server:app`` on loopback, on
    ``port`` (default: a free one)."""

    def __init__(self, env: dict[str, str], tmp: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upload_dir = tmp / "uploads"
        self.upload_dir.mkdir()
        self.log_path = tmp / "gunicorn.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "server:app"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PORT": str(self.port),
                "UPLOAD_DIR": str(self.upload_dir),
                "RATE_LIMIT": "",  # many uploads from one address; tests of the limit set their own
                "JOB_DIR": str(tmp / "jobs"),
                **env,
            },
        )
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                try:
                    if requests.get(self.url + "/health", timeout=1).status_code == 200:
                        return
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        self.stop()
        pytest.fail("gunicorn did not answer /health within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gunicorn server with default settings and 2 landmark workers."""
    running = Server({"ANALYSIS_WORKERS": "2", "MAX_UPLOAD_MB": "50"}, tmp_path_factory.mktemp("server"))
    yield running
    running.stop()
