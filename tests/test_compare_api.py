"""``POST /compare`` on a real gunicorn server with the real model: the
documented JSON (checked against /openapi.json), the same answer as the CLI,
and the error envelope naming the video at fault, with no upload left
behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.compare_media import make_variant
from tests.conftest import Server, video
from tests.job_client import post_compare
from tests.openapi_check import assert_documented
from tests.test_api import assert_error, http
from tests.test_cli import ARM_CIRCLES, without_timing
from tests.test_compare_cli import empty_room, run_compare  # noqa: F401  (empty_room is a fixture)


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    return http("get", server.url + "/openapi.json", timeout=10).json()


@pytest.fixture(scope="module")
def mirrored_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The arm-circles clip (53 frames) flipped left to right. Both arms
    circle alike, so the mirror image matches as well either way (whether it
    is reported ``mirrored`` is tested on an asymmetric dance in
    tests/test_compare_invariance.py)."""
    return make_variant(video(ARM_CIRCLES), "hflip", tmp_path_factory.mktemp("hflip"))


def test_a_mirrored_performance(server: Server, document: dict[str, Any], mirrored_clip: Path) -> None:
    response = post_compare(server.url, video(ARM_CIRCLES), mirrored_clip, include="frames")
    assert response.status_code == 200, response.text
    assert_documented(document, "/compare", "post", response)
    body = response.json()
    assert body["score"] >= 95, body["score"]
    assert body["reference"]["filename"] == ARM_CIRCLES
    assert body["performance"]["filename"] == mirrored_clip.name
    assert len(body["frames"]["reference"]) == len(body["frames"]["performance"]) == 53
    assert not list(server.upload_dir.iterdir())


def test_the_same_answer_as_the_cli(server: Server, document: dict[str, Any]) -> None:
    clip = video(ARM_CIRCLES)
    response = post_compare(server.url, clip, clip)
    assert response.status_code == 200, response.text
    assert_documented(document, "/compare", "post", response)
    cli = run_compare(clip, clip)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert without_timing(response.json()) == without_timing(json.loads(cli.stdout))


@pytest.mark.parametrize("missing", ["reference", "performance"])
def test_a_missing_video_is_named(server: Server, document: dict[str, Any], missing: str) -> None:
    clip = video(ARM_CIRCLES)
    response = post_compare(
        server.url, *(None if role == missing else clip for role in ("reference", "performance"))
    )
    error = assert_error(response, 400, "missing_file")
    assert f"'{missing}'" in error["message"]
    assert_documented(document, "/compare", "post", response)


def test_a_file_that_is_not_a_video_is_named(server: Server, document: dict[str, Any]) -> None:
    response = post_compare(server.url, video(ARM_CIRCLES), b"just some text\n" * 50)
    error = assert_error(response, 415, "not_a_video", server.upload_dir)
    assert error["message"].startswith("performance video: ")
    assert_documented(document, "/compare", "post", response)
    assert not list(server.upload_dir.iterdir())


def test_a_video_without_a_person_is_insufficient_pose(
    server: Server,
    document: dict[str, Any],
    empty_room: Path,  # noqa: F811
) -> None:
    response = post_compare(server.url, empty_room, video(ARM_CIRCLES))
    error = assert_error(response, 422, "insufficient_pose", server.upload_dir)
    assert "reference video (grey.mp4)" in error["message"]
    assert_documented(document, "/compare", "post", response)
    assert not list(server.upload_dir.iterdir())


def test_a_reference_without_a_person_fails_before_the_performance_is_read(
    server: Server,
    empty_room: Path,  # noqa: F811
) -> None:
    response = post_compare(server.url, empty_room, b"not even a video\n" * 50)
    assert_error(response, 422, "insufficient_pose", server.upload_dir)


def test_a_bad_option_is_named(server: Server, document: dict[str, Any]) -> None:
    clip = video(ARM_CIRCLES)
    response = post_compare(server.url, clip, clip, sample_fps="-1")
    error = assert_error(response, 400, "bad_parameter")
    assert "sample_fps" in error["message"]
    assert_documented(document, "/compare", "post", response)


def test_documented_as_multipart_with_both_videos(document: dict[str, Any]) -> None:
    operation = document["paths"]["/compare"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = document["components"]["schemas"][form["$ref"].split("/")[-1]] if "$ref" in form else form
    assert {"reference", "performance", "include", "sample_fps", "progress_id"} <= set(schema["properties"])
    assert "insufficient_pose" in operation["responses"]["422"]["description"]
