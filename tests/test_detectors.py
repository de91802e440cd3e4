"""Detectors on synthetic stick figures, seen from every side and mirrored."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.errors import UnknownPoseError
from analyzer.landmarks.blazepose import WORLD
from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.detectors import HIT_SCORE, available, get_detectors
from tests.skeletons import VIEWS, skeleton

DETECTORS = {detector.name: detector for detector in get_detectors()}

# (pose kwargs, expected hit per detector)
CASES = [
    ({"left_arm": "t"}, {"t_pose": True, "arms_up": False, "standing": True}),
    ({"left_arm": "t", "left_leg": "apart"}, {"t_pose": True, "standing": True}),
    ({"left_arm": "up"}, {"t_pose": False, "arms_up": True, "standing": True}),
    ({"left_arm": "down"}, {"t_pose": False, "arms_up": False, "standing": True}),
    ({"left_arm": "on_head"}, {"arms_up": False}),
    # fists held at the face, forearms upright: the fingertips pass the crown,
    # but the hands are at ear level
    ({"left_arm": "at_face"}, {"arms_up": False}),
    # the hands overhead, the wrists just below the crown (the air squat's
    # arms): the fingertips are above it
    ({"left_arm": "overhead_low"}, {"arms_up": True}),
    ({"left_arm": "up", "right_arm": "down"}, {"arms_up": False}),
    ({"left_arm": "t", "right_arm": "down"}, {"t_pose": False}),
    ({"left_arm": "forward"}, {"t_pose": False}),
    ({"left_arm": "bent_out"}, {"t_pose": False}),
    ({"left_arm": "tilted_up"}, {"t_pose": False}),
    ({"left_arm": "t", "left_leg": "squat"}, {"t_pose": False, "standing": False}),
    # seen from the front, knees bent toward the camera: the image shows
    # straight legs, the world landmarks the squat
    ({"left_leg": "squat_toward_camera"}, {"standing": False}),
    ({"left_leg": "lunge", "right_leg": "straight"}, {"standing": False}),
    ({"left_arm": "t", "left_leg": "lunge", "right_leg": "straight"}, {"t_pose": False}),
    ({"left_leg": "lifted", "right_leg": "straight"}, {"standing": True}),
    ({"lean_deg": 45.0}, {"standing": False}),
    ({"lean_deg": 90.0, "left_arm": "up"}, {"standing": False, "t_pose": False}),
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"{v['facing']}{'-mirrored' if v['mirrored'] else ''}")
@pytest.mark.parametrize(("pose", "expected"), CASES, ids=str)
def test_detectors_agree_with_the_definition_from_every_view(pose, expected, view):
    landmarks = skeleton(**pose, **view)
    for name, hit in expected.items():
        score = float(DETECTORS[name].score(landmarks))
        assert (score >= HIT_SCORE) is hit, f"{name} scored {score:.2f} on {pose} {view}"


def test_scores_are_identical_whichever_way_the_person_faces():
    poses = [skeleton(left_arm=arm, **view) for arm in ("t", "up", "down") for view in VIEWS]
    for detector in DETECTORS.values():
        for i in range(0, len(poses), len(VIEWS)):
            scores = [float(detector.score(p)) for p in poses[i : i + len(VIEWS)]]
            assert np.allclose(scores, scores[0]), (detector.name, scores)


@pytest.mark.parametrize("hidden", [L.LEFT_WRIST, L.RIGHT_KNEE, L.LEFT_HIP])
def test_low_visibility_landmarks_give_no_judgement(hidden):
    landmarks = skeleton(left_arm="t")
    landmarks[hidden, 3] = 0.2
    t_pose = DETECTORS["t_pose"]
    assert np.isnan(t_pose.score(landmarks))
    assert t_pose.detect(landmarks) is None


def test_detect_returns_the_score_of_a_hit():
    landmarks = skeleton(left_arm="up")
    assert DETECTORS["arms_up"].detect(landmarks) == pytest.approx(
        float(DETECTORS["arms_up"].score(landmarks))
    )
    assert DETECTORS["t_pose"].detect(landmarks) is None


def test_a_batch_scores_like_single_frames():
    frames = [skeleton(left_arm=arm) for arm in ("t", "up", "down")]
    frames.append(np.full((33, 7), np.nan, dtype=np.float32))  # no person
    batch = np.stack(frames)
    for detector in DETECTORS.values():
        together = detector.score(batch)
        apart = [float(detector.score(frame)) for frame in frames]
        np.testing.assert_allclose(together, apart)
        assert np.isnan(together[-1])


def test_scores_stay_in_range():
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 1000, size=(500, 33, 7)).astype(np.float32)
    batch[..., 3] = 1.0
    batch[..., WORLD] /= 1000.0  # metres
    for detector in DETECTORS.values():
        scores = detector.score(batch)
        known = scores[~np.isnan(scores)]
        assert known.size > 0 and np.all((known >= 0) & (known <= 1))


def test_registry_lists_the_first_three_poses_and_rejects_unknown_names():
    assert {"t_pose", "arms_up", "standing"} <= set(available())
    assert [d.name for d in get_detectors(["standing", "t_pose", "standing"])] == ["standing", "t_pose"]
    with pytest.raises(UnknownPoseError, match="valid poses are: .*arms_up"):
        get_detectors(["t_pose", "moonwalk"])


def test_landmarks_just_past_the_frame_edge_still_count():
    from analyzer.landmarks.blazepose import to_pixels

    normalized = skeleton(left_arm="up")[:, :4] / np.array([1000.0, 1000.0, 1000.0, 1.0], dtype=np.float32)
    normalized[:, 1] -= normalized[L.LEFT_INDEX, 1] + 0.02  # the knuckles 2% of the height above the top
    arms_up = DETECTORS["arms_up"]
    assert float(arms_up.score(to_pixels(normalized, 1000, 1000))) >= HIT_SCORE
    normalized[:, 1] -= 0.2  # now far above: out of frame, cannot judge
    assert np.isnan(arms_up.score(to_pixels(normalized, 1000, 1000)))
