"""The comparison's invariance table (issue 17, docs/compare.md) on real
landmarks: the shared hip-hop clip against itself, against ffmpeg-made
variants of it (mirrored, slower, faster, late, 25 fps, scaled and padded),
against other clips, and against itself with the left arm changed.

Landmarks are found once per video in the session (``landmarks``) on the
session's pool; each variant is encoded once (``variant``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from analyzer.compare import ComparisonResult, PoseSequence, compare_sequences
from analyzer.compare.videos import landmarks_of, sequence_of
from analyzer.landmarks import Landmark, LandmarkPool, LandmarkRun
from tests.compare_media import make_variant
from tests.conftest import video

REFERENCE = "dance_hiphop_solo_portrait_718x1280.mp4"
#: A different dance, and an exercise.
OTHERS = ["dance_solo_office_640x360.mp4", "jumping_jacks_gym_front_1280x720_60fps.mp4"]


@pytest.fixture(scope="session")
def landmarks(pool: LandmarkPool) -> Callable[[Path], LandmarkRun]:
    """The landmarks of a video file, found once per session."""
    cache: dict[Path, LandmarkRun] = {}

    def get(path: Path) -> LandmarkRun:
        if path not in cache:
            cache[path] = landmarks_of(
                path,
                "test",
                pool,
                sample_fps=None,
                timeout_s=None,
                wait_s=None,
                limits=None,
                on_progress=None,
            )
        return cache[path]

    return get


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The reference clip encoded as a variant of ``tests.compare_media``, once per session."""
    directory = tmp_path_factory.mktemp("variants")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = make_variant(video(REFERENCE), name, directory)
        return made[name]

    return get


@pytest.fixture(scope="session")
def reference(landmarks: Callable[[Path], LandmarkRun]) -> PoseSequence:
    """The reference clip's landmarks."""
    return sequence_of(landmarks(video(REFERENCE)))


def report(name: str, result: ComparisonResult) -> None:
    """Print the measured row of docs/compare.md's table (``pytest -s`` shows it)."""
    timing = result.timing
    print(
        f"\n| {name} | {result.score:.1f} | {result.mirrored} | {timing.offset_ms:.0f} | "
        f"{timing.tempo_ratio:.3f} | {timing.mean_abs_lag_ms:.0f} | "
        + " | ".join(f"{value:.1f}" for value in result.body_parts.values())
        + " |"
    )


def compare(name: str, reference: PoseSequence, run: LandmarkRun) -> ComparisonResult:
    """Compare and report."""
    result = compare_sequences(reference, sequence_of(run))
    report(name, result)
    return result


def test_the_reference_itself(reference: PoseSequence) -> None:
    result = compare_sequences(reference, reference)
    report("the reference itself", result)
    assert result.score >= 99.5
    assert not result.mirrored


def test_mirrored(reference: PoseSequence, landmarks, variant) -> None:
    result = compare("hflip", reference, landmarks(variant("hflip")))
    assert result.score >= 95
    assert result.mirrored


@pytest.mark.parametrize(("name", "tempo"), [("slow_0.8x", 0.8), ("fast_1.25x", 1.25)])
def test_slower_and_faster(reference: PoseSequence, landmarks, variant, name: str, tempo: float) -> None:
    result = compare(name, reference, landmarks(variant(name)))
    assert result.score >= 95
    assert result.timing.tempo_ratio == pytest.approx(tempo, rel=0.05)
    assert not result.mirrored


def test_starting_half_a_second_late(reference: PoseSequence, landmarks, variant) -> None:
    result = compare("late_0.5s", reference, landmarks(variant("late_0.5s")))
    assert result.score >= 95
    assert result.timing.offset_ms == pytest.approx(500, abs=67)


@pytest.mark.parametrize("name", ["fps25", "scaled_padded"])
def test_reencoded_and_reframed(reference: PoseSequence, landmarks, variant, name: str) -> None:
    result = compare(name, reference, landmarks(variant(name)))
    assert result.score >= 95
    assert abs(result.timing.offset_ms) < 67 and result.timing.tempo_ratio == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("name", OTHERS)
def test_a_different_clip(reference: PoseSequence, landmarks, name: str) -> None:
    result = compare(name, reference, landmarks(video(name)))
    assert result.score <= 60


def rotate_left_arm(sequence: PoseSequence, start_ms: float, stop_ms: float, degrees: float) -> PoseSequence:
    """The sequence with the left elbow and wrist turned about the left
    shoulder by ``degrees`` (in pixel space) in ``[start_ms, stop_ms)``."""
    landmarks = sequence.landmarks.copy()
    scale = np.array([sequence.width, sequence.height])
    when = (sequence.timestamps_ms >= start_ms) & (sequence.timestamps_ms < stop_ms)
    turn = np.radians(degrees)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    shoulder = landmarks[when, Landmark.LEFT_SHOULDER, :2] * scale
    for joint in (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST):
        offset = landmarks[when, joint, :2] * scale - shoulder
        landmarks[when, joint, :2] = (shoulder + offset @ rotation.T) / scale
    return PoseSequence(sequence.timestamps_ms, landmarks, sequence.width, sequence.height)


def test_only_the_left_arm_changed(reference: PoseSequence) -> None:
    changed = rotate_left_arm(reference, 6000, 7500, 60)
    result = compare_sequences(reference, changed)
    report("left arm turned 60 degrees in 6.0-7.5 s", result)
    parts = result.body_parts
    assert min(parts, key=parts.get) == "left_arm"
    assert all(parts[name] >= 99.5 for name in parts if name != "left_arm")
    worst = min(result.segments, key=lambda segment: segment.score)
    assert worst.start_ms <= 6000 and worst.end_ms >= 7500
    assert worst.worst_body_parts[0] == "left_arm"
    assert sorted(segment.score for segment in result.segments)[1] >= 99.5
