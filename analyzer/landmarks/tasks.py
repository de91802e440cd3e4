"""What a landmark worker is asked to do and what it answers.

A ``LandmarkTask`` is one frame range of one video; an analysis runs one or
more of them on the pool. (A "job" is an analysis job, one level up.)

Kept apart from ``analyzer.landmarks.landmarker`` so that the processes that only
plan tasks and read their results (the server, the CLI) never import
MediaPipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.video import VideoLimits


@dataclass(frozen=True)
class LandmarkTask:
    """Frames ``[start_frame, stop_frame)`` of one video to run the landmarker on.

    Attributes:
        video_path: local path of the video file.
        start_frame: first frame whose landmarks are wanted (0-based).
        stop_frame: frame to stop before; ``None`` reads to the end.
        warmup_frames: frames before ``start_frame`` also run through the
            landmarker (results dropped) so that its tracking has settled.
        sample_fps: analyze at most this many frames per second
            (``analyzer.video.reader.is_sampled``); ``None`` analyzes every frame.
        limits: the video limits the decoder enforces (``None``: none).
        seek: reach ``start_frame - warmup_frames`` by seeking (see
            ``analyzer.video.reader.FrameReader``) instead of decoding every frame
            before it.
        check_frames: ranges ``(first, stop)`` of frames whose fingerprints
            the run reports, for each analyzed frame in them, so that two tasks
            that both analyze those frames can check that they agree on which
            frame is which.
    """

    video_path: str
    start_frame: int = 0
    stop_frame: int | None = None
    warmup_frames: int = 0
    sample_fps: float | None = None
    limits: VideoLimits | None = None
    seek: bool = False
    check_frames: tuple[tuple[int, int], ...] = ()


@dataclass
class LandmarkRun:
    """Landmarks of the analyzed frames of one ``LandmarkTask``.

    Attributes:
        fps: frame rate used for timestamps (container's, guarded).
        width: upright frame width in pixels (0 if no frame was decoded).
        height: upright frame height in pixels.
        frames_read: frames decoded from frame 0 to where the task stopped;
            for a task that read to the end, the video's true frame count.
        frame_indices: ``(n,) int64`` index of each analyzed frame.
        timestamps_ms: ``(n,) float64`` timestamp of each analyzed frame in ms.
        landmarks: ``(n, 33, 4) float32``; x, y normalized [0, 1], z in x's
            scale, visibility [0, 1]; all NaN where no person was found.
        world_landmarks: ``(n, 33, 3) float32`` MediaPipe's world landmarks
            in metres, origin at the hip midpoint (``analyzer.landmarks.blazepose``);
            all NaN where no person was found.
        fingerprints: frame index -> fingerprint of that frame's pixels
            (``analyzer.video.reader.Frame.fingerprint``), for the analyzed frames
            in the task's ``check_frames``.
    """

    fps: float
    width: int
    height: int
    frames_read: int
    frame_indices: np.ndarray
    timestamps_ms: np.ndarray
    landmarks: np.ndarray
    world_landmarks: np.ndarray
    fingerprints: dict[int, int] = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        """Number of analyzed frames."""
        return int(self.frame_indices.shape[0])

    @classmethod
    def concatenate(cls, runs: list[LandmarkRun]) -> LandmarkRun:
        """Join runs of consecutive frame ranges of one video, in order."""
        last = runs[-1]
        sized = [run for run in runs if run.width] or [last]
        return cls(
            fps=last.fps,
            width=sized[0].width,
            height=sized[0].height,
            frames_read=max(run.frames_read for run in runs),
            frame_indices=np.concatenate([run.frame_indices for run in runs]),
            timestamps_ms=np.concatenate([run.timestamps_ms for run in runs]),
            landmarks=np.concatenate([run.landmarks for run in runs]),
            world_landmarks=np.concatenate([run.world_landmarks for run in runs]),
        )
