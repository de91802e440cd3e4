"""The built-in pose library beyond the first three poses, on synthetic
stick figures (``tests.skeletons``) seen from every side, mirrored, and with
the pose done on either side of the body."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.detectors import HIT_SCORE, get_detectors
from tests.skeletons import VIEWS, skeleton

DETECTORS = {detector.name: detector for detector in get_detectors()}
NEW_POSES = [
    "lunge",
    "warrior_ii",
    "side_angle",
    "triangle",
    "passe",
    "one_leg_balance",
    "plie",
    "squat",
    "hands_on_hips",
]
LUNGE_LEGS = {"left_leg": "front_knee", "right_leg": "extended"}

# (pose kwargs, expected hit per detector); poses not named are not checked.
CASES: list[tuple[dict[str, Any], dict[str, bool]]] = [
    (
        {"left_arm": "t", **LUNGE_LEGS},
        {"warrior_ii": True, "lunge": True, "side_angle": False, "t_pose": False, "standing": False},
    ),
    ({**LUNGE_LEGS}, {"lunge": True, "warrior_ii": False, "squat": False, "plie": False}),
    ({"left_arm": "up", **LUNGE_LEGS}, {"lunge": True, "warrior_ii": False}),
    ({**LUNGE_LEGS, "torso_lean_deg": 50}, {"side_angle": True, "lunge": True, "warrior_ii": False}),
    # leaning back over the straight leg (Reverse Warrior), or hardly leaning
    ({**LUNGE_LEGS, "torso_lean_deg": -50}, {"side_angle": False, "lunge": True}),
    ({"left_arm": "t", **LUNGE_LEGS, "torso_lean_deg": 15}, {"side_angle": False, "warrior_ii": True}),
    ({"left_arm": "t", **LUNGE_LEGS, "torso_lean_deg": 45}, {"side_angle": True, "warrior_ii": False}),
    (
        {"left_arm": "t", "left_leg": "extended", "torso_lean_deg": 75},
        {"triangle": True, "side_angle": False, "lunge": False, "t_pose": False},
    ),
    # one hand on the hip: the arms are not in one vertical line
    (
        {"left_arm": "t", "right_arm": "akimbo", "left_leg": "extended", "torso_lean_deg": 75},
        {"triangle": False},
    ),
    # a wide straight-legged T: a T-pose, none of the lunge family
    (
        {"left_arm": "t", "left_leg": "extended"},
        {"t_pose": True, "triangle": False, "warrior_ii": False, "lunge": False, "plie": False},
    ),
    (
        {"left_leg": "passe", "right_leg": "straight"},
        {"passe": True, "one_leg_balance": True, "standing": True, "lunge": False, "plie": False},
    ),
    ({"left_arm": "up", "left_leg": "passe", "right_leg": "straight"}, {"passe": True, "arms_up": True}),
    # the foot kicked up behind: on one leg, but not a passé
    ({"left_leg": "kick_back", "right_leg": "straight"}, {"passe": False, "one_leg_balance": True}),
    ({"left_leg": "passe", "right_leg": "straight", "torso_lean_deg": 45}, {"passe": False}),
    ({"left_leg": "passe", "right_leg": "plie"}, {"passe": False, "one_leg_balance": False}),
    ({"left_leg": "plie"}, {"plie": True, "squat": False, "standing": False, "lunge": False}),
    ({"left_leg": "plie", "torso_lean_deg": 30}, {"plie": False}),
    # knees forward over parallel feet: a squat, not a plié (not turned out)
    ({"left_leg": "squat"}, {"squat": True, "plie": False, "standing": False, "lunge": False}),
    ({"left_leg": "squat", "torso_lean_deg": 35}, {"squat": True, "plie": False}),
    # seen from the front, the knees bent toward the camera: the image shows
    # nearly straight legs, the world landmarks the squat
    ({"left_leg": "squat_toward_camera"}, {"squat": True, "standing": False, "plie": False, "lunge": False}),
    # a forward lunge seen from the front: the split stance is in depth
    (
        {"left_leg": "lunge_front", "right_leg": "lunge_rear"},
        {"lunge": True, "plie": False, "squat": False, "standing": False, "one_leg_balance": False},
    ),
    # the upright top of a split squat, both legs straight: not a lunge
    ({"left_leg": "step_front", "right_leg": "step_back"}, {"lunge": False, "standing": True}),
    ({"left_leg": "plie", "right_leg": "straight"}, {"plie": False, "squat": False}),
    ({"left_arm": "akimbo"}, {"hands_on_hips": True, "standing": True}),
    ({"left_arm": "akimbo", "right_arm": "down"}, {"hands_on_hips": False}),
    ({"left_arm": "on_head"}, {"hands_on_hips": False}),
    ({}, dict.fromkeys(NEW_POSES, False)),
    ({"left_arm": "t"}, dict.fromkeys(NEW_POSES, False)),
]


def other_side(pose: dict[str, Any]) -> dict[str, Any]:
    """The same pose done on the other side of the body."""
    swapped = dict(pose)
    left_arm, left_leg = pose.get("left_arm", "down"), pose.get("left_leg", "straight")
    swapped["left_arm"], swapped["right_arm"] = pose.get("right_arm") or left_arm, left_arm
    swapped["left_leg"], swapped["right_leg"] = pose.get("right_leg") or left_leg, left_leg
    swapped["torso_lean_deg"] = -pose.get("torso_lean_deg", 0.0)
    return swapped


def view_id(view: dict[str, Any]) -> str:
    return f"{view['facing']}{'-mirrored' if view['mirrored'] else ''}"


@pytest.mark.parametrize("view", VIEWS, ids=view_id)
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(("pose", "expected"), CASES, ids=str)
def test_new_poses_agree_with_the_definitions_from_every_view(pose, expected, side, view):
    landmarks = skeleton(**(pose if side == "left" else other_side(pose)), **view)
    for name, hit in expected.items():
        score = float(DETECTORS[name].score(landmarks))
        assert (score >= HIT_SCORE) is hit, f"{name} scored {score:.2f} on {pose} ({side}, {view})"


@pytest.mark.parametrize(("pose", "_"), CASES, ids=str)
def test_scores_do_not_depend_on_view_or_side(pose, _):
    frames = [skeleton(**variant, **view) for variant in (pose, other_side(pose)) for view in VIEWS]
    for name in NEW_POSES:
        scores = [float(DETECTORS[name].score(frame)) for frame in frames]
        np.testing.assert_allclose(scores, scores[0], atol=1e-6, err_msg=name)


@pytest.mark.parametrize(
    ("pose", "name", "hidden"),
    [
        (LUNGE_LEGS, "lunge", L.RIGHT_ANKLE),
        ({"left_leg": "passe", "right_leg": "straight"}, "passe", L.RIGHT_KNEE),
        ({"left_leg": "passe", "right_leg": "straight"}, "one_leg_balance", L.LEFT_ANKLE),
        ({"left_leg": "plie"}, "plie", L.LEFT_HIP),
        ({"left_arm": "t", **LUNGE_LEGS}, "warrior_ii", L.LEFT_ELBOW),
    ],
)
def test_a_hidden_landmark_the_pose_needs_gives_no_judgement(pose, name, hidden):
    landmarks = skeleton(**pose)
    assert float(DETECTORS[name].score(landmarks)) >= HIT_SCORE
    landmarks[hidden, 3] = 0.2
    assert np.isnan(DETECTORS[name].score(landmarks))
    assert DETECTORS[name].detect(landmarks) is None


def test_hands_on_hips_from_the_side_judges_the_hand_that_can_be_seen():
    landmarks = skeleton(left_arm="akimbo")
    landmarks[[L.RIGHT_WRIST, L.RIGHT_ELBOW], 3] = 0.2  # behind the body
    assert float(DETECTORS["hands_on_hips"].score(landmarks)) >= HIT_SCORE
    hanging = skeleton(left_arm="down")
    hanging[[L.RIGHT_WRIST, L.RIGHT_ELBOW], 3] = 0.2
    assert float(DETECTORS["hands_on_hips"].score(hanging)) < HIT_SCORE
    landmarks[[L.LEFT_WRIST, L.LEFT_ELBOW], 3] = 0.2  # neither hand seen
    assert np.isnan(DETECTORS["hands_on_hips"].score(landmarks))


def test_without_world_landmarks_the_3d_measures_cannot_judge():
    landmarks = skeleton(left_leg="squat")[:, :4]
    assert np.isnan(DETECTORS["squat"].score(landmarks))
    assert np.isnan(DETECTORS["standing"].score(skeleton()[:, :4]))


def test_every_new_pose_is_registered_with_its_definition():
    for name in NEW_POSES:
        detector = DETECTORS[name]
        assert detector.definition is not None and detector.definition["name"] == name
        assert detector.description == detector.definition["description"]
