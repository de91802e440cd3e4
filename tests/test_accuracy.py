"""Regression guard: accuracy on the labelled frames (docs/accuracy.md).

Runs the real model through the service's own pipeline on every clip of
the two shared labels files (``../shared/labels/shared.csv`` and
``vocab.csv``) and of the project's own labels of other shared clips
(``tests/labels/poses.csv``). Every pose with positive frames in a file has
a floor under its F1: the issue's target, 0.90, where the measured F1 meets
it, else the measured F1 less ``MARGIN`` (docs/accuracy.md gives the
figures and says which targets are not met). And no pose may fire on more
than ``MAX_EXCLUDED_RATE`` of the frames labelled as a pose that GUIDE.md
says excludes it.
"""

from __future__ import annotations

import pytest

from analyzer.options import AnalysisOptions
from analyzer.tools.evaluate import OVERALL, Evaluation, evaluate, format_confusion, format_table
from tests.conftest import LABELS, ROOT, SHARED, VIDEOS

#: The issue's target F1 for a pose with at least 10 positive frames.
TARGET_F1 = 0.90
#: Below a measured F1 short of the target: room for a frame or two that
#: moves with the number of workers (a video is split into tasks per worker).
MARGIN = 0.03

#: Labels file -> pose -> F1 floor: TARGET_F1 where it is met, else the
#: measured F1 (docs/accuracy.md, same model and default options) less MARGIN.
F1_FLOORS: dict[str, dict[str, float]] = {
    "shared": {"t_pose": TARGET_F1, "arms_up": TARGET_F1, "standing": TARGET_F1},
    "vocab": {
        "arms_up": TARGET_F1,
        "standing": TARGET_F1,
        "squat": 0.889 - MARGIN,
        "lunge": TARGET_F1,
        "plie": TARGET_F1,
        "hands_on_hips": TARGET_F1,
        "t_pose": TARGET_F1,
    },
    "library": {
        "lunge": 0.841 - MARGIN,
        "warrior_ii": 0.200 - MARGIN,
        "side_angle": TARGET_F1,
        "triangle": TARGET_F1,
        "passe": TARGET_F1,
        "one_leg_balance": TARGET_F1,
        "hands_on_hips": TARGET_F1,
    },
}
#: (pose that must not fire, pose labelled) pairs that GUIDE.md rules out
#: together: a split stance is never a plié and never a squat, a squat or a
#: lunge is not standing, a lunge has both feet down, warrior II's lunge
#: with T arms is not a T-pose.
EXCLUDED = [
    ("lunge", "plie"),
    ("plie", "lunge"),
    ("squat", "lunge"),
    ("lunge", "squat"),
    ("squat", "standing"),
    ("standing", "squat"),
    ("standing", "lunge"),
    ("lunge", "standing"),
    ("one_leg_balance", "lunge"),
    ("t_pose", "lunge"),
    ("t_pose", "warrior_ii"),
]
#: The issue's limit on a pose firing on another pose's frames that exclude it.
MAX_EXCLUDED_RATE = 0.02

LABEL_FILES = {
    "shared": LABELS,
    "vocab": SHARED / "labels" / "vocab.csv",
    "library": ROOT / "tests" / "labels" / "poses.csv",
}


@pytest.fixture(scope="module")
def results(pool) -> dict[str, Evaluation]:
    return {name: evaluate(path, VIDEOS, AnalysisOptions(), pool) for name, path in LABEL_FILES.items()}


def test_every_pose_with_positives_is_guarded(results):
    for name, evaluation in results.items():
        with_positives = {
            pose for pose, counts in evaluation.counts.items() if counts[OVERALL].tp + counts[OVERALL].fn
        }
        assert with_positives == set(F1_FLOORS[name]), name


@pytest.mark.parametrize(
    ("labels", "pose"), [(name, pose) for name, floors in F1_FLOORS.items() for pose in floors], ids=str
)
def test_f1_does_not_regress(results, labels, pose):
    counts = results[labels][pose][OVERALL]
    floor = F1_FLOORS[labels][pose]
    assert counts.f1 is not None and counts.f1 >= floor, format_table({pose: results[labels][pose]})


@pytest.mark.parametrize("labels", list(LABEL_FILES))
def test_no_pose_fires_on_frames_of_a_pose_that_excludes_it(results, labels):
    confusion = results[labels].confusion
    for fired, labelled in EXCLUDED:
        counts = confusion.get((fired, labelled))
        if counts is None or not counts.labelled:
            continue
        assert counts.rate is not None and counts.rate <= MAX_EXCLUDED_RATE, (
            f"{fired} fired on {counts.fired} of {counts.labelled} {labelled} frames\n"
            + format_confusion(confusion)
        )


def test_hard_negatives_stay_negative(results):
    # Warrior II has T arms over a lunge; the hip-hop dancer's T arms come with bent knees.
    assert results["shared"]["t_pose"]["yoga_warrior2_tpose_arms_sequence_1280x720"].fp == 0
    assert results["shared"]["t_pose"]["dance_hiphop_solo_portrait_718x1280"].fp == 0
    # the air squat's front view: squats with the arms overhead are neither plié nor standing
    airsquat = "squats_front_and_side_crossfit_airsquat_1280x720_24fps"
    assert results["vocab"]["plie"][airsquat].fp == 0
    assert results["vocab"]["standing"][airsquat].fp == 0
