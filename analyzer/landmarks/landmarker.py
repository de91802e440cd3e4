"""Pose landmarks for a run of frames with MediaPipe's ``PoseLandmarker``.

One landmarker per run of frames, in VIDEO mode (its timestamps must
strictly increase, and it tracks the person from frame to frame), created in
the process that uses it from model bytes read once per process (the worker
makes the next one while it waits for a task). Decoding runs in a thread
ahead of inference through a small bounded queue: OpenCV and MediaPipe both
release the GIL, so the two overlap, and memory holds at most
``QUEUE_FRAMES`` decoded frames.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python.core.base_options import BaseOptions
from mediapipe.tasks.python.vision.core.vision_task_running_mode import VisionTaskRunningMode
from mediapipe.tasks.python.vision.pose_landmarker import PoseLandmarker, PoseLandmarkerOptions

from analyzer.errors import UndecodableVideoError
from analyzer.landmarks.blazepose import NUM_LANDMARKS
from analyzer.landmarks.tasks import LandmarkRun, LandmarkTask
from analyzer.video import Frame, FrameReader

#: Decoded frames buffered between the decode thread and inference.
QUEUE_FRAMES = 4
#: How often ``run_landmarker`` reports progress, in frames.
PROGRESS_EVERY = 15
#: Longest side, in pixels, of the images given to the landmarker; larger
#: frames are scaled down first. The pose models run on 224 and 256 pixel
#: crops, so a 1280-pixel frame still gives them a full-resolution crop of a
#: person a fifth of its height or taller, while a 1080p or 4K frame no
#: longer pays for converting millions of pixels it cannot use.
MAX_SIDE = 1280


def create_landmarker(model: bytes) -> PoseLandmarker:
    """A new VIDEO-mode ``PoseLandmarker`` for one person, from model bytes.

    Confidence thresholds are MediaPipe's defaults (0.5).
    """
    options = PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=model),
        running_mode=VisionTaskRunningMode.VIDEO,
        num_poses=1,
    )
    return PoseLandmarker.create_from_options(options)


def _prefetch(frames: Iterator[Frame]) -> Iterator[Frame]:
    """Run a frame iterator in a thread, ``QUEUE_FRAMES`` ahead of the consumer."""
    buffer: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        buffer.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            buffer.put(exc)

    thread = threading.Thread(target=produce, name="decode", daemon=True)
    thread.start()
    try:
        while (item := buffer.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _to_arrays(result: object) -> tuple[np.ndarray, np.ndarray]:
    """``(33, 4) float32`` landmarks and ``(33, 3) float32`` world landmarks
    (metres) of the first pose, or all NaN if none."""
    poses = result.pose_landmarks  # type: ignore[attr-defined]
    if not poses:
        return (
            np.full((NUM_LANDMARKS, 4), np.nan, dtype=np.float32),
            np.full((NUM_LANDMARKS, 3), np.nan, dtype=np.float32),
        )
    world = result.pose_world_landmarks[0]  # type: ignore[attr-defined]
    return (
        np.array(
            [(p.x, p.y, p.z, p.visibility if p.visibility is not None else 0.0) for p in poses[0]],
            dtype=np.float32,
        ),
        np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32),
    )


def run_landmarker(
    landmarker: PoseLandmarker, task: LandmarkTask, on_progress: Callable[[int], None] | None = None
) -> LandmarkRun:
    """Run a fresh landmarker over the frames of ``task``.

    Args:
        landmarker: a VIDEO-mode landmarker (``create_landmarker``) that has
            seen no frame yet; it is used up (its timestamps only increase,
            and it tracks from frame to frame), and the caller closes it.
        task: which video and frames.
        on_progress: called with the number of frames analyzed so far, every
            ``PROGRESS_EVERY`` frames and at the end.

    Returns:
        The landmarks and world landmarks of the analyzed frames in ``[task.start_frame, stop)``,
        where ``stop`` is ``task.stop_frame`` or the end of the video,
        whichever comes first, and the fingerprints of the analyzed frames in
        ``task.check_frames``.

    Raises:
        UndecodableVideoError: the video cannot be opened, or not a single
            frame of it decodes from frame 0.
        VideoTooLargeError: the decoded video is past ``task.limits``.
    """
    reader = FrameReader(
        task.video_path,
        start=max(0, task.start_frame - task.warmup_frames),
        stop=task.stop_frame,
        sample_fps=task.sample_fps,
        max_side=MAX_SIDE,
        limits=task.limits,
        seek=task.seek,
    )
    fingerprints: dict[int, int] = {}
    indices: list[int] = []
    timestamps: list[float] = []
    rows: list[np.ndarray] = []
    world_rows: list[np.ndarray] = []
    for frame in _prefetch(iter(reader)):
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
        result = landmarker.detect_for_video(image, round(frame.timestamp_ms))
        if any(first <= frame.index < stop for first, stop in task.check_frames):
            fingerprints[frame.index] = frame.fingerprint
        if frame.index < task.start_frame:
            continue
        indices.append(frame.index)
        timestamps.append(frame.timestamp_ms)
        landmarks, world = _to_arrays(result)
        rows.append(landmarks)
        world_rows.append(world)
        if on_progress is not None and len(rows) % PROGRESS_EVERY == 0:
            on_progress(len(rows))
    if on_progress is not None and len(rows) % PROGRESS_EVERY:
        on_progress(len(rows))
    if reader.frames_read == 0:
        raise UndecodableVideoError("no frame of the video could be decoded")
    return LandmarkRun(
        fps=reader.fps,
        width=reader.width,
        height=reader.height,
        frames_read=reader.frames_read,
        frame_indices=np.array(indices, dtype=np.int64),
        timestamps_ms=np.array(timestamps, dtype=np.float64),
        landmarks=np.stack(rows) if rows else np.empty((0, NUM_LANDMARKS, 4), np.float32),
        world_landmarks=np.stack(world_rows) if world_rows else np.empty((0, NUM_LANDMARKS, 3), np.float32),
        fingerprints=fingerprints,
    )
