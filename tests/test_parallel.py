"""Parallel frame ranges and frame sampling against the sequential path."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from analyzer.landmarks.tasks import LandmarkTask
from analyzer.options import AnalysisOptions
from analyzer.pipeline import analyze_video, build_result, plan_tasks, run_tasks
from analyzer.poses.detectors import get_detectors
from analyzer.video.reader import is_sampled
from tests.conftest import video

JACKS = "jumping_jacks_gym_front_1280x720_60fps.mp4"
HIPHOP = "dance_hiphop_solo_portrait_718x1280.mp4"


def test_short_videos_run_as_one_task_long_ones_in_ranges():
    assert len(plan_tasks(video("arm_circles_tpose_portrait_480x848_10fps.mp4"), 2, None)) == 1
    tasks = plan_tasks(video(HIPHOP), 2, 10.0)
    assert [(j.start_frame, j.stop_frame) for j in tasks] == [(0, 230), (230, None)]
    assert tasks[0].warmup_frames == 0 and tasks[1].warmup_frames == 15  # 500 ms at 30 fps
    assert all(j.sample_fps == 10.0 for j in tasks)
    # The second range seeks; both check the 15 frames they share.
    assert [j.seek for j in tasks] == [False, True]
    assert tasks[0].check_frames == tasks[1].check_frames == ((215, 230),)
    # At 1 frame a second no frame of a 500 ms warm-up is analyzed: nothing
    # to check a seek by, so the second range decodes its way there.
    assert [j.seek for j in plan_tasks(video(HIPHOP), 2, 1.0)] == [False, False]


def test_a_seek_that_missed_is_run_again_from_frame_0(pool, variable_rate_video: Path, caplog):
    path = str(variable_rate_video)
    tasks = plan_tasks(path, pool.size, None)
    assert tasks[1].seek
    with caplog.at_level(logging.WARNING, logger="analyzer.pipeline"):
        checked = run_tasks(pool, tasks, timeout_s=None, wait_s=None, on_progress=None)
    assert "seeking to frame 230 missed" in caplog.text
    decoded = run_tasks(
        pool,
        [dataclasses.replace(j, seek=False) for j in tasks],
        timeout_s=None,
        wait_s=None,
        on_progress=None,
    )
    np.testing.assert_array_equal(checked.frame_indices, decoded.frame_indices)
    np.testing.assert_array_equal(checked.landmarks, decoded.landmarks)


@pytest.mark.parametrize("name", [JACKS, HIPHOP])
def test_ranges_in_parallel_give_the_sequential_result(pool, name):
    path = str(video(name))
    sequential = pool.run(LandmarkTask(path))
    tasks = plan_tasks(path, pool.size, None)
    assert len(tasks) == 2
    parallel = run_tasks(pool, tasks, timeout_s=None, wait_s=None, on_progress=None)
    np.testing.assert_array_equal(parallel.frame_indices, sequential.frame_indices)
    assert parallel.frames_read == sequential.frames_read
    boundary = tasks[1].start_frame
    # The first range is the sequential run itself, frame for frame.
    np.testing.assert_array_equal(parallel.landmarks[:boundary], sequential.landmarks[:boundary])
    # After the boundary the landmarker tracks from its own start: landmarks
    # agree to within 3% of the frame for the first frames, and the per-frame
    # decisions agree on at least 98% of frames (docs in BENCHMARKS.md).
    after = np.abs(
        parallel.landmarks[boundary : boundary + 5, :, :2]
        - sequential.landmarks[boundary : boundary + 5, :, :2]
    )
    assert np.nanmax(after) < 0.03
    detectors, options = get_detectors(), AnalysisOptions()
    a = build_result(sequential, detectors, options, pool.model, filename=name, started=0.0)
    b = build_result(parallel, detectors, options, pool.model, filename=name, started=0.0)
    for pose in a.detected_poses:
        differ = set(a.detected_poses[pose]) ^ set(b.detected_poses[pose])
        assert len(differ) <= 0.02 * sequential.frame_count, (pose, sorted(differ))


@pytest.mark.parametrize(
    ("fps", "sample_fps", "expected"),
    [
        (30.0, 10.0, [0, 3, 6, 9]),
        (60.0, 10.0, [0, 6]),
        (29.97, 10.0, [0, 3, 6, 9]),
        (25.0, 10.0, [0, 3, 5, 8, 10]),
        (10.0, 30.0, list(range(11))),
    ],
)
def test_sampled_frames_are_spread_evenly_in_time(fps, sample_fps, expected):
    assert [i for i in range(11) if is_sampled(i, fps, sample_fps)] == expected


def test_sampling_analyzes_fewer_frames_and_segments_span_the_gaps(pool):
    path = video(JACKS)  # 60.017 fps
    result = analyze_video(path, pool, AnalysisOptions(sample_fps=10.0))
    assert result.total_frames == 360
    analyzed = {i for i in range(360) if is_sampled(i, result.video.fps, 10.0)}
    assert result.processed_frames == len(analyzed) == 60
    for pose, frames in result.detected_poses.items():
        assert set(frames) <= analyzed, pose
    standing = [s for s in result.segments if s.pose == "standing"]
    assert standing and standing[0].start_frame == 0 and standing[-1].end_frame == max(analyzed)
    summary = {s.pose: s for s in result.pose_summary}
    # Each analyzed frame stands for 0.1 s, the last one only for what is left
    # of the video (5.998 s): 5.98 s for the 60 frames, not 6.0.
    length_s = result.video.duration_s
    shares = [min(0.1, length_s - i / result.video.fps) for i in result.detected_poses["standing"]]
    assert summary["standing"].duration_s == pytest.approx(sum(shares), abs=0.005)
    assert summary["standing"].duration_s <= length_s
