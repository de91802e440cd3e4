"""``GET /poses`` and pose definitions sent with ``POST /analyze``, against a
real gunicorn server (``tests.conftest.Server``) and real uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.poses.definitions import SCHEMA
from analyzer.poses.detectors import available
from analyzer.poses.detectors.library import BUILTIN_DIR
from tests.conftest import Server, video
from tests.openapi_check import assert_documented
from tests.test_api import ARM_CIRCLES, assert_error, http, post_video

T_POSE = json.loads((BUILTIN_DIR / "t_pose.json").read_text())
#: A request's own pose: both wrists above the crown, with an error for the 400 tests.
HANDS_HIGH = {
    "name": "hands_high",
    "description": "Both wrists above the top of the head.",
    "constraints": [
        {
            "for": "both",
            "constraints": [
                {"measure": "height", "points": ["wrist", "crown"], "unit": "head", "min": 0, "softness": 0.5}
            ],
        }
    ],
}


def test_poses_lists_every_pose_with_its_definition_and_the_schema(server: Server) -> None:
    response = http("get", server.url + "/poses", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [pose["name"] for pose in body["poses"]] == available()
    for pose in body["poses"]:
        assert pose["definition"] == json.loads((BUILTIN_DIR / f"{pose['name']}.json").read_text())
        assert pose["description"] == pose["definition"]["description"]
    assert body["definition_schema"] == SCHEMA
    document = http("get", server.url + "/openapi.json", timeout=10).json()
    assert_documented(document, "/poses", "get", response)


def test_a_definition_sent_with_the_request_detects_like_the_builtin_one(server: Server) -> None:
    """The T-pose definition under another name, sent as JSON in ``poses``,
    decides every frame as the built-in ``t_pose`` does."""
    mine = {**T_POSE, "name": "my_t_pose"}
    poses = json.dumps(["t_pose", mine, HANDS_HIGH])
    response = post_video(server.url, video(ARM_CIRCLES), data={"poses": poses, "include": "frames"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body["detected_poses"]) == ["t_pose", "my_t_pose", "hands_high"]
    assert body["detected_poses"]["t_pose"], "the clip holds a T-pose throughout"
    assert body["detected_poses"]["my_t_pose"] == body["detected_poses"]["t_pose"]
    assert body["detected_poses"]["hands_high"] == []
    for frame in body["frames"]:
        assert frame["scores"]["my_t_pose"] == frame["scores"]["t_pose"]
    # the request's poses are its own: the server's list does not change
    assert "my_t_pose" not in [
        pose["name"] for pose in http("get", server.url + "/poses", timeout=10).json()["poses"]
    ]


@pytest.mark.parametrize(
    ("poses", "expected"),
    [
        (
            json.dumps(
                ["t_pose", {**HANDS_HIGH, "constraints": [{"for": "all", "constraints": []}]}], indent=2
            ),
            "poses: line 8, column 16 ($[1].constraints[0].for): 'all' is not one of",
        ),
        ('["t_pose", 7]', "poses: line 1, column 12 ($[1]): an item is a pose name"),
        ('{"name": "x",', "poses: line 1, column 14: not valid JSON"),
        (json.dumps({**HANDS_HIGH, "name": "t_pose"}), "pose 't_pose' is already defined"),
    ],
)
def test_a_wrong_definition_is_a_400_that_says_where(server: Server, poses: str, expected: str) -> None:
    response = post_video(server.url, video(ARM_CIRCLES), params={"poses": poses})
    error = assert_error(response, 400, "invalid_pose_definition")
    assert expected in error["message"], error["message"]


def test_an_unknown_name_in_a_json_list_is_an_unknown_pose(server: Server) -> None:
    response = post_video(
        server.url, video(ARM_CIRCLES), data={"poses": json.dumps([HANDS_HIGH, "moonwalk"])}
    )
    error = assert_error(response, 400, "unknown_pose")
    assert "moonwalk" in error["message"] and "hands_high" in error["message"]


def test_a_definitions_directory_adds_poses_at_start_up(tmp_path: Path, model_path: Path) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "hands_high.json").write_text(json.dumps(HANDS_HIGH))
    running = Server({"ANALYSIS_WORKERS": "1", "POSE_DEFINITIONS_DIR": str(definitions)}, tmp_path)
    try:
        response = http("get", running.url + "/poses", timeout=10)
        assert response.status_code == 200, response.text
        listed = {pose["name"]: pose for pose in response.json()["poses"]}
        assert set(listed) == {*available(), "hands_high"}
        assert listed["hands_high"]["definition"] == HANDS_HIGH
    finally:
        running.stop()
