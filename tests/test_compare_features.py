"""Bone directions, mirroring, gap filling and resampling of the comparison
(analyzer.compare), on synthetic landmarks whose truth is known."""

from __future__ import annotations

import numpy as np

from analyzer.compare.features import BONES, MAX_GAP_MS, bone_directions, fill_gaps, mirror
from analyzer.compare.resample import RATE_HZ, resample
from analyzer.compare.sequence import PoseSequence
from analyzer.landmarks.blazepose import VISIBILITY, Landmark
from tests.synthetic_dancer import dancer, frame_times


def test_directions_are_unit_vectors_in_pixel_space() -> None:
    sequence = dancer(frame_times(1, 30), width=640, height=360, scale=0.3)
    directions = bone_directions(sequence)
    assert directions.shape == (30, len(BONES), 2)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=-1), 1.0, atol=1e-9)
    # The shoulder line of an upright dancer is horizontal in pixels, even
    # though normalized y and x are scaled differently on a 16:9 frame.
    shoulders = BONES.index((Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER))
    lean = np.degrees(np.arctan2(directions[0, shoulders, 1], -directions[0, shoulders, 0]))
    assert abs(lean) < 0.01


def test_directions_do_not_depend_on_frame_shape_size_or_place() -> None:
    times = frame_times(2, 30)
    portrait = bone_directions(dancer(times))
    landscape_small = bone_directions(dancer(times, width=1920, height=1080, scale=0.5, centre=(0.3, 0.4)))
    np.testing.assert_allclose(portrait, landscape_small, atol=1e-5)


def test_mirror_twice_is_identity_and_swaps_sides() -> None:
    landmarks = dancer(frame_times(1, 30)).landmarks
    np.testing.assert_allclose(mirror(mirror(landmarks)), landmarks, atol=1e-6)
    flipped = mirror(landmarks)
    np.testing.assert_allclose(
        flipped[:, Landmark.RIGHT_WRIST, 0], 1.0 - landmarks[:, Landmark.LEFT_WRIST, 0], atol=1e-6
    )
    np.testing.assert_array_equal(flipped[:, Landmark.NOSE, 1], landmarks[:, Landmark.NOSE, 1])


def test_low_visibility_landmarks_are_missing() -> None:
    sequence = dancer(frame_times(1, 30))
    sequence.landmarks[10, Landmark.LEFT_ELBOW, VISIBILITY] = 0.2
    directions = bone_directions(sequence, mirrored=False)
    # One frame (33 ms) is a short gap: filled, close to its neighbours.
    left_upper_arm = BONES.index((Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW))
    assert not np.isnan(directions[10, left_upper_arm]).any()
    sequence.landmarks[5:25, Landmark.LEFT_ELBOW, VISIBILITY] = 0.2  # 667 ms: too long to fill
    directions = bone_directions(sequence)
    assert np.isnan(directions[5:25, left_upper_arm]).all()
    forearm = BONES.index((Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST))
    assert np.isnan(directions[5:25, forearm]).all()
    assert not np.isnan(np.delete(directions[5:25], [left_upper_arm, forearm], axis=1)).any()


def test_fill_gaps_interpolates_short_gaps_only() -> None:
    times = np.arange(20) * 50.0  # 20 fps
    angle = np.radians(np.arange(20) * 3.0)
    directions = np.stack([np.cos(angle), np.sin(angle)], axis=-1)[:, None, :].copy()
    directions[3:5] = np.nan  # present 2 and 5: 150 ms apart
    directions[8:14] = np.nan  # present 7 and 14: 350 ms apart
    assert 150 <= MAX_GAP_MS < 350
    filled = fill_gaps(directions, times)
    np.testing.assert_allclose(
        np.degrees(np.arctan2(filled[3:5, 0, 1], filled[3:5, 0, 0])), [9.0, 12.0], atol=0.01
    )
    assert np.isnan(filled[8:14]).all()


def test_resample_puts_25_and_60_fps_on_one_clock() -> None:
    at_25 = dancer(frame_times(4, 25))
    at_60 = dancer(frame_times(4, 60))
    first = resample(bone_directions(at_25), at_25.timestamps_ms)
    second = resample(bone_directions(at_60), at_60.timestamps_ms)
    truth = bone_directions(dancer(np.arange(len(first)) * 1000.0 / RATE_HZ))
    count = min(len(first), len(second))
    assert abs(len(first) - len(second)) <= 1
    angle = np.degrees(np.arccos(np.clip(np.sum(first[:count] * second[:count], axis=-1), -1, 1)))
    assert angle.max() < 2.0
    angle = np.degrees(np.arccos(np.clip(np.sum(first * truth[: len(first)], axis=-1), -1, 1)))
    assert angle.max() < 2.0


def test_sequence_rejects_bad_shapes() -> None:
    try:
        PoseSequence(np.zeros(3), np.zeros((2, 33, 4), dtype=np.float32), 10, 10)
    except ValueError as exc:
        assert "(3, 33, 4)" in str(exc)
    else:
        raise AssertionError("a shape mismatch was accepted")
