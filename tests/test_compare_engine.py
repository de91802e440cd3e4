"""Alignment, scores and errors of the comparison (analyzer.compare) on the
synthetic dancer, where the true offset, tempo and changes are known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.compare import InsufficientPoseError, PoseSequence, compare_sequences
from analyzer.compare.align import MAX_OFFSET_MS, MAX_TEMPO_DIFFERENCE, band_width
from analyzer.compare.features import mirror
from analyzer.compare.score import TOLERANCE_DEG, ZERO_SCORE_DEG, bone_scores
from tests.synthetic_dancer import angles_at, dancer, frame_times

REFERENCE = dancer(frame_times(10, 30))


def performed(duration_s: float, fps: float, when) -> PoseSequence:
    """The synthetic dance as performed at ``when(t_s)`` of the reference's
    time for each of its own frame times ``t_s``."""
    times = frame_times(duration_s, fps)
    return dancer(times, angles=angles_at(when(times / 1000.0)))


def test_score_scale() -> None:
    errors = np.array([0.0, TOLERANCE_DEG, (TOLERANCE_DEG + ZERO_SCORE_DEG) / 2, ZERO_SCORE_DEG, 170, np.nan])
    np.testing.assert_allclose(bone_scores(errors), [100, 100, 50, 0, 0, np.nan])


def test_identical_scores_100_with_no_timing_difference() -> None:
    result = compare_sequences(REFERENCE, REFERENCE)
    assert result.score == pytest.approx(100.0)
    assert not result.mirrored
    assert abs(result.timing.offset_ms) < 1 and result.timing.tempo_ratio == pytest.approx(1.0)
    assert set(result.body_parts) == {"left_arm", "right_arm", "left_leg", "right_leg", "torso"}
    assert all(segment.worst_body_parts == [] for segment in result.segments)  # nothing is worse
    assert result.segments[0].start_ms == 0 and result.segments[-1].end_ms == pytest.approx(10000.0)
    assert all(1000 <= s.end_ms - s.start_ms <= 2250 for s in result.segments)
    assert result.reference.pose_coverage == 1.0


@pytest.mark.parametrize(("tempo", "fps"), [(0.8, 30), (1.25, 25), (0.9, 60)])
def test_tempo_is_recovered(tempo: float, fps: float) -> None:
    result = compare_sequences(REFERENCE, performed(10 / tempo, fps, lambda t: t * tempo))
    assert result.score > 99
    assert result.timing.tempo_ratio == pytest.approx(tempo, rel=0.01)
    assert abs(result.timing.offset_ms) < 20


@pytest.mark.parametrize("offset_ms", [500.0, 2000.0])
def test_late_start_is_the_offset(offset_ms: float) -> None:
    late = performed(10 + offset_ms / 1000, 30, lambda t: np.maximum(t - offset_ms / 1000, 0.0))
    result = compare_sequences(REFERENCE, late)
    assert result.timing.offset_ms == pytest.approx(offset_ms, abs=20)
    assert result.timing.tempo_ratio == pytest.approx(1.0, abs=0.01)
    assert result.score > 99
    # The path maps each reference time to the same moment of the dance.
    path = np.array(result.path)
    assert np.all(np.diff(path, axis=0) >= 0)
    assert np.abs(path[5:, 1] - path[5:, 0] - offset_ms).max() < 40


def test_band_covers_tempo_and_offset() -> None:
    # 60 s at 30 Hz: 25% of 1800 samples plus 3 s of samples.
    assert band_width(1800, 2250, 30.0) >= MAX_TEMPO_DIFFERENCE * 1800 + MAX_OFFSET_MS * 30 / 1000


def test_mirror_image_is_detected() -> None:
    facing = PoseSequence(
        REFERENCE.timestamps_ms, mirror(REFERENCE.landmarks), REFERENCE.width, REFERENCE.height
    )
    result = compare_sequences(REFERENCE, facing)
    assert result.mirrored
    assert result.score == pytest.approx(100.0)
    assert not compare_sequences(REFERENCE, REFERENCE).mirrored


def test_left_arm_change_is_located() -> None:
    times = REFERENCE.timestamps_ms
    angles = angles_at(times / 1000.0)
    changed = (times >= 4500) & (times < 6000)
    angles["left_upper_arm"] = np.where(
        changed, angles["left_upper_arm"] + np.radians(70), angles["left_upper_arm"]
    )
    result = compare_sequences(REFERENCE, dancer(times, angles=angles))
    parts = result.body_parts
    assert min(parts, key=parts.get) == "left_arm"
    assert all(parts[name] > 99 for name in parts if name != "left_arm")
    worst = min(result.segments, key=lambda segment: segment.score)
    assert (worst.start_ms, worst.end_ms) == (4500, 6000)
    assert worst.worst_body_parts[0] == "left_arm"


def test_another_dance_scores_low() -> None:
    times = frame_times(10, 30)
    other = {name: -values[::-1] * 0.8 for name, values in angles_at(times / 1000.0).items()}
    result = compare_sequences(REFERENCE, dancer(times, angles=other))
    assert result.score < 60


def test_too_little_pose_names_the_video() -> None:
    sparse = REFERENCE.landmarks.copy()
    sparse[::2] = np.nan  # a person in half the frames is enough
    half = PoseSequence(REFERENCE.timestamps_ms, sparse, REFERENCE.width, REFERENCE.height)
    compare_sequences(half, REFERENCE)
    sparse[1::4] = np.nan  # a quarter is not
    quarter = PoseSequence(REFERENCE.timestamps_ms, sparse, REFERENCE.width, REFERENCE.height)
    with pytest.raises(InsufficientPoseError) as caught:
        compare_sequences(REFERENCE, quarter, performance_name="student.mp4")
    assert caught.value.video == "performance" and caught.value.code == "insufficient_pose"
    assert "student.mp4" in str(caught.value) and "25%" in str(caught.value)
    with pytest.raises(InsufficientPoseError) as caught:
        compare_sequences(quarter, REFERENCE)
    assert caught.value.video == "reference"


def test_gaps_are_left_out_of_the_score() -> None:
    hidden = REFERENCE.landmarks.copy()
    hidden[60:120, 15, 3] = 0.0  # the left wrist unseen for 2 s
    wrong = dancer(REFERENCE.timestamps_ms)
    wrong.landmarks[60:120, 15, :2] = 0.5  # where it is unseen, the performance's wrist is wrong
    result = compare_sequences(
        PoseSequence(REFERENCE.timestamps_ms, hidden, REFERENCE.width, REFERENCE.height), wrong
    )
    assert result.score == pytest.approx(100.0)


def test_a_performance_that_holds_still_has_a_finite_timing() -> None:
    times = frame_times(10, 30)
    still = {name: np.full_like(values, values[0]) for name, values in angles_at(times / 1000.0).items()}
    result = compare_sequences(REFERENCE, dancer(times, angles=still))
    assert 0 < result.timing.tempo_ratio < 100 and np.isfinite(result.timing.offset_ms)
    assert result.score < 60
    one_frame = PoseSequence(REFERENCE.timestamps_ms[:1], REFERENCE.landmarks[:1], 1080, 1920)
    result = compare_sequences(REFERENCE, one_frame)
    assert result.timing.tempo_ratio == 1.0 and np.isfinite(result.timing.mean_abs_lag_ms)
    json.dumps(result.to_dict(), allow_nan=False)
