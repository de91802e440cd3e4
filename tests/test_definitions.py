"""The declarative pose-definition format: the published schema, what a
definition compiles to, errors that point at the wrong place, and the
places definitions come from (built-in files, a directory, a request)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from analyzer.errors import PoseDefinitionError, UnknownPoseError
from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.definitions import SCHEMA, SCHEMA_PATH, load_directory, parse_definitions, parse_selection
from analyzer.poses.definitions.compiler import QUANTIFIERS
from analyzer.poses.definitions.measures import MEASURES
from analyzer.poses.definitions.points import POINTS, SPACES, UNITS
from analyzer.poses.detectors import HIT_SCORE, available, get_detectors, register, register_detector
from analyzer.poses.detectors.library import BUILTIN_DIR
from tests.conftest import ROOT
from tests.skeletons import skeleton

BUILTIN = sorted(BUILTIN_DIR.glob("*.json"))


def pose(*constraints: dict[str, Any], name: str = "custom") -> dict[str, Any]:
    return {"name": name, "description": "A test pose.", "constraints": list(constraints)}


def group(quantifier: str, *constraints: dict[str, Any]) -> dict[str, Any]:
    return {"for": quantifier, "constraints": list(constraints)}


KNEE = {"measure": "angle", "points": ["hip", "knee", "ankle"]}
SIDES_POSE = pose({"measure": "sides", "points": ["hips", "nose"], "of": "knees", "are": "same"}, name="a")
WRIST_OVER_CROWN = {
    "measure": "height",
    "points": ["wrist", "crown"],
    "unit": "head",
    "min": 0,
    "softness": 0.5,
}


def score(definition: dict[str, Any], landmarks: np.ndarray) -> float:
    [detector] = parse_definitions(json.dumps(definition), "test")
    return float(detector.score(landmarks))


# ---------------------------------------------------------------- the schema


def test_the_published_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("path", BUILTIN, ids=lambda path: path.stem)
def test_every_builtin_definition_is_valid_under_the_published_schema(path: Path):
    definition = json.loads(path.read_text())
    jsonschema.validate(definition, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert definition["name"] == path.stem
    assert path.stem in available()
    assert get_detectors([path.stem])[0].definition == definition


def test_the_schema_names_exactly_what_the_compiler_knows():
    defs = SCHEMA["$defs"]
    assert defs["point"]["enum"] == list(POINTS)
    assert defs["unit"]["enum"] == list(UNITS)
    assert defs["space"]["enum"] == list(SPACES)
    assert defs["measure"]["properties"]["measure"]["enum"] == list(MEASURES)
    assert defs["group"]["properties"]["for"]["enum"] == list(QUANTIFIERS)


def test_the_first_three_poses_are_declarative_and_nothing_is_left_in_python():
    assert {"t_pose", "arms_up", "standing"} <= {path.stem for path in BUILTIN}
    assert all(detector.definition is not None for detector in get_detectors())


# ---------------------------------------------------------------- what it compiles to


def test_the_score_is_one_half_exactly_at_the_threshold():
    landmarks = skeleton(left_arm="up")
    [detector] = parse_definitions(json.dumps(pose(group("both", WRIST_OVER_CROWN))), "test")
    left_value, _ = MEASURES["height"](landmarks, WRIST_OVER_CROWN, 0)
    at_threshold = pose(group("both", {**WRIST_OVER_CROWN, "min": float(left_value)}))
    assert score(at_threshold, landmarks) == 0.5
    assert float(detector.score(landmarks)) == 1.0  # far above the crown
    assert (
        score(pose(group("both", {**WRIST_OVER_CROWN, "min": float(left_value) + 0.25})), landmarks) == 0.25
    )


def test_min_and_max_together_and_a_hard_limit():
    knee = skeleton(left_leg="plie")  # knees at about 137 degrees
    value = float(MEASURES["angle"](knee, KNEE, 0)[0])
    assert score(pose(group("both", {**KNEE, "min": 100, "max": 170, "softness": 10})), knee) == 1.0
    assert score(pose(group("both", {**KNEE, "min": 100, "max": value, "softness": 10})), knee) == 0.5
    assert score(pose(group("both", {**KNEE, "max": value + 1e-3, "softness": 0})), knee) == 1.0
    assert score(pose(group("both", {**KNEE, "max": value, "softness": 0})), knee) == 0.0


def test_quantifiers_choose_the_side():
    one_arm_up = skeleton(left_arm="up", right_arm="down")
    assert score(pose(group("both", WRIST_OVER_CROWN)), one_arm_up) < HIT_SCORE
    assert score(pose(group("either", WRIST_OVER_CROWN)), one_arm_up) >= HIT_SCORE
    tree = skeleton(left_leg="passe", right_leg="straight")
    straight = {**KNEE, "min": 150, "softness": 10}
    assert score(pose(group("supporting", straight)), tree) >= HIT_SCORE
    assert score(pose(group("both", straight)), tree) < HIT_SCORE
    assert score(pose(group("lifted", {**KNEE, "max": 90, "softness": 10})), tree) >= HIT_SCORE
    # with both feet down, "supporting" means both legs
    assert score(pose(group("supporting", straight)), skeleton(left_leg="lunge", right_leg="straight")) < 0.5


def test_only_the_landmarks_a_definition_uses_must_be_visible():
    landmarks = skeleton(left_arm="up")
    landmarks[L.LEFT_ANKLE, 3] = 0.1
    assert score(pose(group("both", WRIST_OVER_CROWN)), landmarks) >= HIT_SCORE
    assert np.isnan(score(pose(group("both", {**KNEE, "min": 150, "softness": 10})), landmarks))
    assert np.isnan(score(pose(group("lifted", WRIST_OVER_CROWN)), landmarks))  # which ankle is higher?


def test_a_compiled_definition_scores_batches_like_single_frames():
    definitions = [json.loads(path.read_text()) for path in BUILTIN]
    detectors = parse_definitions(json.dumps(definitions), "all")
    frames = np.stack(
        [skeleton(left_arm=arm, left_leg=leg) for arm in ("t", "up") for leg in ("plie", "passe")]
    )
    for detector in detectors:
        np.testing.assert_array_equal(detector.score(frames), [detector.score(frame) for frame in frames])


# ---------------------------------------------------------------- 3D, alternatives, hidden sides


def test_a_knee_bent_toward_the_camera_is_bent_in_the_world_and_straight_in_the_image():
    squat = skeleton(left_leg="squat_toward_camera")
    image, _ = MEASURES["angle"](squat, KNEE, 0)
    world, known = MEASURES["angle"](squat, {**KNEE, "space": "world"}, 0)
    assert float(image) > 170 and float(world) < 90 and bool(known)
    thigh = {"measure": "tilt", "points": ["hip", "knee"], "from": "vertical"}
    assert float(MEASURES["tilt"](squat, thigh, 0)[0]) > 175  # hanging straight down, in the image
    assert float(MEASURES["tilt"](squat, {**thigh, "space": "world"}, 0)[0]) < 120


def test_world_measures_are_in_metres_and_world_units():
    landmarks = skeleton()
    shoulders_up = {"measure": "height", "points": ["shoulders", "hips"], "unit": "torso"}
    assert float(MEASURES["height"](landmarks, shoulders_up, 0)[0]) == pytest.approx(1.0)
    world = float(MEASURES["height"](landmarks, {**shoulders_up, "space": "world"}, 0)[0])
    assert world == pytest.approx(1.0, abs=1e-6)


def test_the_body_axes_split_a_stance_into_front_and_side():
    lunge = skeleton(left_leg="lunge_front", right_leg="lunge_rear")
    feet = {"measure": "distance", "space": "world", "points": ["ankle", "other_ankle"], "unit": "torso"}
    front = float(MEASURES["distance"](lunge, {**feet, "axis": "front"}, 0)[0])
    side = float(MEASURES["distance"](lunge, {**feet, "axis": "side"}, 0)[0])
    assert front > 2 and side < 0.5
    # seen from the front the image puts the two feet side by side
    assert float(MEASURES["distance"](lunge, {**feet, "space": "image", "axis": "x"}, 0)[0]) < 0.5
    turned = {"measure": "tilt", "space": "world", "points": ["hip", "knee"], "from": "front"}
    assert float(MEASURES["tilt"](skeleton(left_leg="plie"), turned, 0)[0]) == pytest.approx(90)
    assert float(MEASURES["tilt"](skeleton(left_leg="squat"), turned, 0)[0]) < 35


def test_an_alternative_takes_the_best_of_what_can_be_judged():
    one_arm_up = skeleton(left_arm="up", right_arm="down")
    high = {**WRIST_OVER_CROWN, "points": ["wrist", "crown"]}
    low_knee = {**KNEE, "max": 90, "softness": 10}  # straight legs: fails
    assert score(pose(group("either", {"any": [low_knee, high]})), one_arm_up) >= HIT_SCORE
    assert score(pose(group("both", {"any": [low_knee, high]})), one_arm_up) < HIT_SCORE
    hidden = skeleton(left_arm="up")
    hidden[[L.LEFT_KNEE, L.RIGHT_KNEE], 3] = 0.1
    assert score(pose(group("both", {"any": [low_knee, high]})), hidden) >= HIT_SCORE  # knees left out
    hidden[[L.LEFT_WRIST, L.RIGHT_WRIST], 3] = 0.1
    assert np.isnan(score(pose(group("both", {"any": [low_knee, high]})), hidden))


def test_visible_judges_the_sides_that_can_be_seen():
    up = skeleton(left_arm="up")
    up[L.RIGHT_WRIST, 3] = 0.1
    assert np.isnan(score(pose(group("both", WRIST_OVER_CROWN)), up))
    assert score(pose(group("visible", WRIST_OVER_CROWN)), up) >= HIT_SCORE
    up[L.LEFT_WRIST, 3] = 0.1
    assert np.isnan(score(pose(group("visible", WRIST_OVER_CROWN)), up))


def test_fingertips_reach_a_hand_length_beyond_the_wrist():
    landmarks = skeleton(left_arm="up")
    fingers = {
        "measure": "height",
        "points": ["fingertips", "wrist"],
        "unit": "torso",
        "min": 0,
        "softness": 0.1,
    }
    value, known = MEASURES["height"](landmarks, fingers, 0)
    assert bool(known) and float(value) == pytest.approx(0.375, abs=0.05)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (
            {"measure": "tilt", "points": ["hips", "knees"], "from": "front", "max": 30, "softness": 5},
            "($.constraints[0]): 'space' is a required property",
        ),
        (
            {
                "measure": "distance",
                "points": ["hips", "knees"],
                "axis": "front",
                "unit": "torso",
                "max": 1,
                "softness": 0.1,
                "space": "image",
            },
            "($.constraints[0].space): 'world' was expected",
        ),
        (
            {"measure": "sides", "points": ["hips", "nose"], "of": "knees", "are": "same", "space": "world"},
            "unknown property 'space'",
        ),
        (
            {
                "measure": "angle",
                "points": ["hips", "knees", "ankles"],
                "max": 90,
                "softness": 5,
                "space": "3d",
            },
            "($.constraints[0].space): '3d' is not one of ['image', 'world']",
        ),
        (
            {"any": [{**KNEE, "max": 90, "softness": 5}, WRIST_OVER_CROWN]},
            "'hip' belongs to one side of the body",
        ),
        ({"any": [WRIST_OVER_CROWN]}, "is too short"),
    ],
)
def test_the_3d_and_alternative_fields_are_validated(constraint: dict[str, Any], expected: str):
    with pytest.raises(PoseDefinitionError) as caught:
        parse_definitions(json.dumps(pose(constraint)), "test")
    assert expected in str(caught.value), str(caught.value)


# ---------------------------------------------------------------- errors point at the place


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{\n  "name": "x",\n  "description": "d",\n  "constraints": [\n    {"measure": "angle", '
            '"points": ["hips", "knees", "ankles"], "mn": 3, "softness": 1}\n  ]\n}',
            ["test.json: line 5, column 65 ($.constraints[0].mn): unknown property 'mn'"],
        ),
        (
            '{"name": "x", "description": "d", "constraints": [\n'
            '  {"for": "both", "constraints": [\n'
            '    {"measure": "tilt", "points": ["hip", "knee"], "from": "up", "max": 30, "softness": 5}]}]}',
            ["line 3, column 60 ($.constraints[0].constraints[0].from): 'up' is not one of"],
        ),
        (
            '{"name": "x", "description": "d", "constraints": [\n'
            '  {"measure": "angle", "points": ["hip", "knee", "ankle"], '
            '"min": 160, "max": 150, "softness": 5}]}',
            [
                "line 2, column 35 ($.constraints[0].points[0]): 'hip' belongs to one side of the body",
                "line 2, column 67 ($.constraints[0].min): min must be less than max",
            ],
        ),
        (
            '{"name": "x",\n "description": "d",\n "constraints": [}',
            ["test.json: line 3, column 18: not valid JSON"],
        ),
        ('{"name": "x", "description": NaN}', ["line 1, column 30 ($.description): numbers must be finite"]),
        (
            f"[{json.dumps(SIDES_POSE)},\n {json.dumps(SIDES_POSE)}]",
            ["line 2, column 11 ($[1].name): pose 'a' is defined twice"],
        ),
        ("[" * 5000 + "]" * 5000, ["test.json: nested more than 20 levels deep"]),
        ("[" * 21 + "]" * 21, ["test.json: nested more than 20 levels deep"]),
        (
            '{"name": "Bad name", "description": "", "constraints": []}',
            ["($.name)", "($.description)", "($.constraints)"],
        ),
    ],
)
def test_errors_say_where_the_definition_is_wrong(text: str, expected: list[str]):
    with pytest.raises(PoseDefinitionError) as caught:
        parse_definitions(text, "test.json")
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert caught.value.code == "invalid_pose_definition"


def test_the_limit_error_names_min_and_max():
    with pytest.raises(
        PoseDefinitionError, match=r"\$\.constraints\[0\]\.constraints\[0\]\): a limit needs 'min'"
    ):
        parse_definitions(json.dumps(pose(group("both", {**KNEE, "softness": 1}))), "test")


# ---------------------------------------------------------------- where definitions come from


def test_a_request_selects_names_and_its_own_definitions():
    assert parse_selection(None, "poses") == (None, ())
    assert parse_selection("t_pose,arms_up", "poses") == (("t_pose", "arms_up"), ())
    mine = pose(group("both", WRIST_OVER_CROWN), name="hands_high")
    names, custom = parse_selection(json.dumps(["standing", mine]), "poses")
    assert names == ("standing", "hands_high") and [d.name for d in custom] == ["hands_high"]
    assert [d.name for d in get_detectors(names, extra=custom)] == ["standing", "hands_high"]
    assert "hands_high" not in available()
    names, custom = parse_selection(json.dumps(mine), "poses")
    assert names == ("hands_high",) and len(custom) == 1


def test_a_request_gets_located_errors_and_cannot_reuse_a_name():
    with pytest.raises(
        PoseDefinitionError, match=r"poses: line 1, column 12 \(\$\[1\]\): an item is a pose name"
    ):
        parse_selection('["t_pose", 3]', "poses")
    broken = json.dumps(["t_pose", pose(group("both", {**KNEE, "min": "150", "softness": 1}))], indent=1)
    with pytest.raises(
        PoseDefinitionError, match=r"\(\$\[1\]\.constraints\[0\]\.constraints\[0\]\.min\): '150'"
    ):
        parse_selection(broken, "poses")
    names, custom = parse_selection(
        json.dumps([pose(group("both", WRIST_OVER_CROWN), name="t_pose")]), "poses"
    )
    with pytest.raises(PoseDefinitionError, match="'t_pose' is already defined"):
        get_detectors(names, extra=custom)
    names, custom = parse_selection('["t_pose", "moonwalk"]', "poses")
    with pytest.raises(UnknownPoseError, match="moonwalk"):
        get_detectors(names, extra=custom)


def test_a_directory_loads_every_file_and_refuses_a_name_twice(tmp_path: Path):
    first = pose(group("both", WRIST_OVER_CROWN), name="hands_high")
    second = pose(group("either", WRIST_OVER_CROWN), name="a_hand_high")
    (tmp_path / "one.json").write_text(json.dumps(first))
    (tmp_path / "two.json").write_text(json.dumps([second]))
    (tmp_path / "notes.txt").write_text("not a definition")
    assert sorted(d.name for d in load_directory(tmp_path)) == ["a_hand_high", "hands_high"]
    (tmp_path / "three.json").write_text(json.dumps(first))
    with pytest.raises(
        PoseDefinitionError, match=r"three\.json: pose 'hands_high' is already defined in .*one\.json"
    ):
        load_directory(tmp_path)
    with pytest.raises(PoseDefinitionError, match="no such directory"):
        load_directory(tmp_path / "missing")


def import_detectors(directory: Path) -> subprocess.CompletedProcess[str]:
    """Import the detectors in a fresh interpreter with ``POSE_DEFINITIONS_DIR``."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from analyzer.poses.detectors import available; print(','.join(available()))",
        ],
        check=False,
        cwd=ROOT,
        env={**os.environ, "POSE_DEFINITIONS_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pose_definitions_dir_registers_its_poses_at_start_up(tmp_path: Path):
    (tmp_path / "mine.json").write_text(json.dumps(pose(group("both", WRIST_OVER_CROWN), name="hands_high")))
    loaded = import_detectors(tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert set(loaded.stdout.strip().split(",")) == {*available(), "hands_high"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"name": "hands_high",\n "description": 5}',
            "bad.json: line 2, column 17 ($.description): 5 is not of type",
        ),
        (json.dumps(pose(group("both", WRIST_OVER_CROWN), name="t_pose")), "'t_pose' is already defined"),
    ],
)
def test_a_bad_definitions_dir_stops_the_start_up(tmp_path: Path, content: str, message: str):
    (tmp_path / "bad.json").write_text(content)
    loaded = import_detectors(tmp_path)
    assert loaded.returncode != 0
    assert "PoseDefinitionError" in loaded.stderr and message in loaded.stderr, loaded.stderr


def test_builtin_definitions_are_not_changed_by_use():
    before = copy.deepcopy([d.definition for d in get_detectors()])
    frames = np.stack([skeleton(left_arm="t"), skeleton(left_leg="squat")])
    for detector in get_detectors():
        detector.score(frames)
    assert [d.definition for d in get_detectors()] == before


def test_the_registry_refuses_a_second_pose_under_a_name_but_not_the_same_definition_again():
    [t_pose] = get_detectors(["t_pose"])
    with pytest.raises(ValueError, match="registered twice"):
        register("t_pose", "another T")(lambda landmarks: landmarks[..., 0, 0])
    [again] = parse_definitions(json.dumps(t_pose.definition), "again")
    register_detector(again)
    assert get_detectors(["t_pose"])[0] is t_pose
