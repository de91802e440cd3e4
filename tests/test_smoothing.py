"""Smoothing in milliseconds, hysteresis and segments."""

from __future__ import annotations

import numpy as np

from analyzer.poses.segments import find_segments
from analyzer.poses.smoothing import hysteresis, smooth


def test_smoothing_window_is_in_ms_whatever_the_fps():
    for fps in (10.0, 30.0, 60.0):
        t = np.arange(int(fps * 2)) * 1000.0 / fps
        scores = np.where((t >= 500) & (t < 1500), 1.0, 0.0)
        smoothed = smooth(scores, t, 400.0)
        # 200 ms either side of a step the average is partial, beyond it exact.
        assert smoothed[np.searchsorted(t, 200)] == 0.0
        assert smoothed[np.searchsorted(t, 1000)] == 1.0
        assert 0.0 < smoothed[np.searchsorted(t, 500)] < 1.0


def test_smoothing_skips_unknown_scores_and_keeps_no_data_as_nan():
    t = np.arange(10) * 100.0
    scores = np.array([1.0, np.nan, 1.0, 0.0, np.nan, np.nan, np.nan, np.nan, np.nan, 0.0])
    smoothed = smooth(scores, t, 200.0)
    assert smoothed[1] == 1.0
    assert np.isnan(smoothed[6])
    np.testing.assert_array_equal(smooth(scores, t, 0.0), scores)


def test_hysteresis_holds_a_pose_near_the_threshold():
    flicker = np.array([0.3, 0.6, 0.48, 0.52, 0.47, 0.6, 0.2, 0.5, 0.3])
    decisions = hysteresis(flicker, enter=0.55, exit=0.45)
    assert decisions.tolist() == [False, True, True, True, True, True, False, False, False]
    assert not hysteresis(np.array([0.6, np.nan, 0.5]), 0.55, 0.45)[1:].any()


def test_segments_drop_runs_shorter_than_the_minimum():
    decisions = np.array([True, True, False, True, False, False, True, True, True, True])
    frames = np.arange(10) + 100
    t = np.arange(10) * 50.0
    segments = find_segments("t_pose", decisions, frames, t, 50.0, min_duration_ms=100.0)
    assert [(s.start_frame, s.end_frame, s.start_ms, s.end_ms) for s in segments] == [
        (100, 101, 0, 50),
        (106, 109, 300, 450),
    ]
    assert len(find_segments("t_pose", decisions, frames, t, 50.0, min_duration_ms=0.0)) == 3
