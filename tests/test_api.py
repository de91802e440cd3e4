"""The HTTP API against a real gunicorn process (``server:app``, gevent worker,
real landmark worker processes, the real model) with real uploads.

Most tests share the session ``server`` (2 landmark workers, 50 MB limit);
settings that change the server's behaviour (a 1 MB upload limit, a short
analysis time limit, an unusable upload directory) get a dedicated
``Server`` of their own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests

from analyzer.landmarks.blazepose import Landmark as L
from analyzer.poses.detectors import available
from tests.conftest import ROOT, Server, video

JUMPING_JACKS = "jumping_jacks_gym_front_1280x720_60fps.mp4"
HIPHOP = "dance_hiphop_solo_portrait_718x1280.mp4"
ARM_CIRCLES = "arm_circles_tpose_portrait_480x848_10fps.mp4"  # 53 frames, the shortest clip
ARM_RAISES = "arm_raise_jumps_phone_portrait_352x640.mp4"  # 273 frames, about 4-6 s of analysis
FITNESS = "dance_fitness_class_crowd_portrait_576x1024.mp4"  # its moov atom comes before the frames

CONTRACT_KEYS = [
    "video",
    "model",
    "total_frames",
    "processed_frames",
    "frames_with_person",
    "detected_poses",
    "pose_summary",
    "segments",
    "processing_s",
]
VIDEO_KEYS = ["filename", "width", "height", "fps", "frame_count", "duration_s"]
#: Generous ceiling for one analysis request of a shared clip on a slow machine.
ANALYSIS_TIMEOUT = 180


# ---------------------------------------------------------------- helpers


def http(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request on its own connection, closed by the server after the
    response (``Connection: close``): an idle keep-alive connection held by a
    lingering ``Response`` would make gunicorn's gevent worker wait its whole
    graceful timeout at shutdown."""
    headers = {"Connection": "close", **kwargs.pop("headers", {})}
    return requests.request(method, url, headers=headers, **kwargs)


def post_video(
    url: str,
    path: Path | None = None,
    *,
    content: bytes | None = None,
    filename: str | None = None,
    field: str = "video",
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    timeout: float = ANALYSIS_TIMEOUT,
) -> requests.Response:
    """POST one file to ``/analyze`` as multipart field ``field``."""
    if content is None:
        assert path is not None
        content = path.read_bytes()
    name = filename or (path.name if path is not None else "upload.mp4")
    return http(
        "post",
        url + "/analyze",
        files={field: (name, content, "application/octet-stream")},
        params=params,
        data=data,
        timeout=timeout,
    )


def assert_error(response: requests.Response, status: int, code: str, *private: str | Path) -> dict:
    """The response is ``status`` with exactly the JSON error envelope, the
    given ``code``, and no stack trace, server path or temp name in it."""
    text = response.text
    assert response.status_code == status, text
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert list(body) == ["error"], body
    assert sorted(body["error"]) == ["code", "message"], body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"].strip(), body
    for leak in ("Traceback", 'File "', "dancepose-", str(ROOT), "/tmp/", *map(str, private)):
        assert leak not in text, f"{leak!r} leaked into the error body: {text}"
    return body["error"]


def assert_contract(body: dict[str, Any], poses: list[str] | None = None) -> None:
    """The success JSON follows the contract of issue 2, consistently."""
    poses = sorted(poses if poses is not None else available())
    assert list(body) == CONTRACT_KEYS, list(body)

    info = body["video"]
    assert list(info) == VIDEO_KEYS, info
    assert isinstance(info["filename"], str) and info["filename"]
    assert "/" not in info["filename"] and "\\" not in info["filename"]
    for key in ("width", "height", "frame_count"):
        assert isinstance(info[key], int) and info[key] > 0, info
    assert isinstance(info["fps"], float | int) and info["fps"] > 0
    assert info["duration_s"] == pytest.approx(info["frame_count"] / info["fps"], abs=0.011)

    model_file = Path(os.environ["POSE_MODEL_PATH"])
    assert body["model"] == {
        "name": "pose_landmarker_full",
        "sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
    }

    n = info["frame_count"]
    assert body["total_frames"] == n
    assert body["processed_frames"] == n
    assert isinstance(body["frames_with_person"], int) and 0 <= body["frames_with_person"] <= n
    assert isinstance(body["processing_s"], float | int) and body["processing_s"] >= 0

    detected = body["detected_poses"]
    assert sorted(detected) == poses
    for pose, frames in detected.items():
        assert all(isinstance(frame, int) for frame in frames), pose
        assert frames == sorted(set(frames)), f"{pose}: frame indices not sorted and unique"
        assert all(0 <= frame < n for frame in frames), pose

    summary = {entry["pose"]: entry for entry in body["pose_summary"]}
    assert len(summary) == len(body["pose_summary"]) and sorted(summary) == poses
    for pose, entry in summary.items():
        assert sorted(entry) == ["duration_s", "frames_detected", "pose", "ratio"]
        count = len(detected[pose])
        assert entry["frames_detected"] == count
        assert entry["ratio"] == pytest.approx(count / n, abs=0.0011)
        assert 0.0 <= entry["ratio"] <= 1.0
        assert entry["duration_s"] == pytest.approx(count / info["fps"], abs=0.011)

    segments = body["segments"]
    order = [(segment["start_frame"], segment["pose"]) for segment in segments]
    assert order == sorted(order), "segments are not ordered by start frame, then pose"
    for segment in segments:
        assert sorted(segment) == ["end_frame", "end_ms", "pose", "start_frame", "start_ms"]
        assert segment["pose"] in poses
        assert 0 <= segment["start_frame"] <= segment["end_frame"] < n
        assert 0 <= segment["start_ms"] <= segment["end_ms"]
        # timestamps are frame / fps in ms (the reported fps is rounded to 3 decimals)
        assert abs(segment["start_ms"] - segment["start_frame"] * 1000 / info["fps"]) <= 1
        assert abs(segment["end_ms"] - segment["end_frame"] * 1000 / info["fps"]) <= 1
        held = set(detected[segment["pose"]])
        missing = set(range(segment["start_frame"], segment["end_frame"] + 1)) - held
        assert not missing, f"segment {segment} covers frames not in detected_poses"


def label_rows(labels: list[dict[str, str]], clip: str, pose: str, value: str) -> set[int]:
    """Frames of ``clip`` (a file name) whose label for ``pose`` is ``value``."""
    stem = Path(clip).stem
    return {int(row["frame"]) for row in labels if row["video"] == stem and row[pose] == value}


def proc_children(pid: int) -> list[int]:
    """Pids of the live direct children of ``pid`` (read from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process in clock ticks (0 once it is gone)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def is_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def gunicorn_workers(running: Server) -> list[int]:
    """Pids of the server's gunicorn workers (the master's children but its job worker)."""
    return [pid for pid in proc_children(running.process.pid) if pid not in job_workers(running)]


def job_workers(running: Server) -> list[int]:
    """Pids of the ``python -m jobs`` process(es) the gunicorn master started."""
    return [pid for pid in proc_children(running.process.pid) if " -m jobs " in cmdline(pid)]


def landmark_workers(running: Server) -> list[int]:
    """Pids of the ``python -m analyzer.landmarks.worker`` processes of the server (its job worker's)."""
    return [
        child
        for worker in job_workers(running)
        for child in proc_children(worker)
        if "analyzer.landmarks.worker" in cmdline(child)
    ]


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Background:
    """One request running in a thread; ``response`` / ``error`` once done."""

    def __init__(self, target) -> None:
        self.response: requests.Response | None = None
        self.error: BaseException | None = None
        self.finished_at: float | None = None

        def run() -> None:
            try:
                self.response = target()
            except BaseException as exc:  # reported by result()
                self.error = exc
            finally:
                self.finished_at = time.monotonic()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def result(self, timeout: float = ANALYSIS_TIMEOUT) -> requests.Response:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the background request did not finish"
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


def write_clip(source: Path, target: Path, frames: int) -> Path:
    """A short MP4 (MPEG-4 Part 2) made of the first ``frames`` frames of ``source``."""
    capture = cv2.VideoCapture(str(source))
    ok, frame = capture.read()
    assert ok, source
    height, width = frame.shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), 10, (width, height))
    for _ in range(frames):
        writer.write(frame)
        ok, frame = capture.read()
        if not ok:
            break
    writer.release()
    capture.release()
    assert target.stat().st_size > 0
    return target


def mp4_boxes(data: bytes) -> dict[str, tuple[int, int]]:
    """Top-level MP4 boxes: type -> (offset, size), first occurrence."""
    boxes: dict[str, tuple[int, int]] = {}
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        boxes.setdefault(kind, (offset, size))
        if size < 8:
            break
        offset += size
    return boxes


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def jumping_jacks(server: Server) -> dict[str, Any]:
    """The response to the jumping-jacks clip, uploaded as field ``video``."""
    response = post_video(server.url, video(JUMPING_JACKS))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small derived test files: broken MP4s made by byte surgery on shared videos."""
    directory = tmp_path_factory.mktemp("clips")
    circles = video(ARM_CIRCLES).read_bytes()
    boxes = mp4_boxes(circles)
    assert boxes["moov"][0] > boxes["mdat"][0], "arm_circles is expected to keep moov after mdat"

    # The first 8 KB: ftyp and the start of mdat, no moov (index) at all.
    (directory / "truncated_head.mp4").write_bytes(circles[:8192])

    # The moov box renamed: the container cannot be parsed.
    renamed = bytearray(circles)
    offset = boxes["moov"][0]
    renamed[offset + 4 : offset + 8] = b"xxxx"
    (directory / "moov_renamed.mp4").write_bytes(bytes(renamed))

    # A valid index but every frame's bytes zeroed: opens, but no frame decodes.
    zeroed = bytearray(circles)
    start, size = boxes["mdat"]
    zeroed[start + 8 : start + size] = bytes(size - 8)
    (directory / "frames_zeroed.mp4").write_bytes(bytes(zeroed))

    # moov first, then cut before the frame data: opens, claims 451 frames, decodes none.
    fitness = video(FITNESS).read_bytes()
    fitness_boxes = mp4_boxes(fitness)
    assert fitness_boxes["moov"][0] < fitness_boxes["mdat"][0]
    (directory / "truncated_moov_first.mp4").write_bytes(fitness[: fitness_boxes["mdat"][0] + 2048])

    write_clip(video(ARM_CIRCLES), directory / "tiny.mp4", frames=5)
    return directory


# ---------------------------------------------------------------- success and the JSON contract


def test_health(server: Server) -> None:
    response = http("get", server.url + "/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_jumping_jacks_contract(jumping_jacks: dict[str, Any]) -> None:
    assert_contract(jumping_jacks)
    assert jumping_jacks["video"]["filename"] == JUMPING_JACKS
    assert jumping_jacks["video"]["width"] == 1280
    assert jumping_jacks["video"]["height"] == 720
    assert jumping_jacks["video"]["frame_count"] == 360
    assert jumping_jacks["video"]["fps"] == pytest.approx(60.0, abs=0.05)
    assert jumping_jacks["frames_with_person"] >= 350  # one man, whole body in view throughout
    assert {"t_pose", "arms_up", "standing"} <= set(jumping_jacks["detected_poses"])


def test_jumping_jacks_poses_match_labels(jumping_jacks: dict[str, Any], labels) -> None:
    detected = {pose: set(frames) for pose, frames in jumping_jacks["detected_poses"].items()}
    # Every frame labelled arms_up=1: the tops of the jacks, hands overhead
    # (at 160-164 the wrists are just past the top edge of the frame).
    tops = label_rows(labels, JUMPING_JACKS, "arms_up", "1")
    assert {4, 8, 52, 56, 112, 160, 164} <= tops
    assert tops <= detected["arms_up"], sorted(tops - detected["arms_up"])
    # No frame labelled arms_up=0 (arms down or sideways) is reported as arms
    # up, but for the two where the arms pass about 40 degrees above
    # horizontal and the estimated fingertips reach just over the crown
    # (docs/accuracy.md, "Fingertips overshoot").
    down = label_rows(labels, JUMPING_JACKS, "arms_up", "0")
    assert len(down) > 40
    assert down & detected["arms_up"] <= {64, 172}, sorted(down & detected["arms_up"])
    # He stands upright in every labelled frame.
    upright = label_rows(labels, JUMPING_JACKS, "standing", "1")
    assert len(upright) > 80
    assert upright <= detected["standing"], sorted(upright - detected["standing"])
    # Arms up comes in bursts (held segments), not one long run.
    arms_up_segments = [s for s in jumping_jacks["segments"] if s["pose"] == "arms_up"]
    assert len(arms_up_segments) >= 4
    assert all(s["end_frame"] - s["start_frame"] < 40 for s in arms_up_segments)


def test_field_file_and_untrusted_filename(server: Server) -> None:
    response = post_video(
        server.url, video(ARM_CIRCLES), field="file", filename="../../../etc/cron.d/dance.mp4"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_contract(body)
    reported = body["video"]["filename"]
    assert ".." not in reported and "/" not in reported
    assert reported.endswith("dance.mp4")
    assert body["video"]["width"] == 480 and body["video"]["height"] == 848
    assert body["video"]["frame_count"] == 53
    assert body["video"]["fps"] == pytest.approx(10.0)
    assert "frames" not in body


def test_poses_restrict_the_keys(server: Server) -> None:
    # as a form field next to the file
    response = post_video(server.url, video(ARM_CIRCLES), data={"poses": "arms_up,standing"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_contract(body, poses=["arms_up", "standing"])
    assert "t_pose" not in body["detected_poses"]
    assert all(segment["pose"] in {"arms_up", "standing"} for segment in body["segments"])
    # The person stands through the whole clip, and the restriction does not change that.
    assert body["detected_poses"]["standing"] == list(range(53))


def test_unknown_pose_is_400_listing_valid_names(server: Server) -> None:
    response = post_video(server.url, video(ARM_CIRCLES), params={"poses": "arms_up,bogus_pose"})
    error = assert_error(response, 400, "unknown_pose")
    assert "bogus_pose" in error["message"]
    for name in available():
        assert name in error["message"], error["message"]


def test_include_frames(server: Server) -> None:
    response = post_video(server.url, video(ARM_CIRCLES), params={"include": "frames", "poses": "t_pose"})
    assert response.status_code == 200, response.text
    body = response.json()
    frames = body.pop("frames")
    assert_contract(body, poses=["t_pose"])
    fps = body["video"]["fps"]
    assert len(frames) == body["total_frames"] == 53
    with_person = 0
    for index, frame in enumerate(frames):
        assert sorted(frame) == ["frame_index", "landmarks", "scores", "timestamp_ms", "world_landmarks"]
        assert frame["frame_index"] == index
        assert frame["timestamp_ms"] == pytest.approx(index * 1000 / fps, abs=0.1)
        assert list(frame["scores"]) == ["t_pose"]
        score = frame["scores"]["t_pose"]
        assert score is None or 0.0 <= score <= 1.0
        if frame["landmarks"] is None:
            assert frame["world_landmarks"] is None
            continue
        with_person += 1
        world = np.array(frame["world_landmarks"], dtype=float)
        assert world.shape == (33, 3) and np.isfinite(world).all()
        # metres about the hip midpoint: the hips straddle the origin, the body is 1-2.5 m tall
        hips = (world[L.LEFT_HIP] + world[L.RIGHT_HIP]) / 2
        assert np.abs(hips).max() < 0.05
        assert 1.0 < world[:, 1].max() - world[:, 1].min() < 2.5
        landmarks = np.array(frame["landmarks"], dtype=float)
        assert landmarks.shape == (33, 4)
        assert np.isfinite(landmarks).all()
        assert ((landmarks[:, 3] >= 0) & (landmarks[:, 3] <= 1)).all(), "visibility outside [0, 1]"
        # normalized x, y: the body is in view, so most points lie inside the frame
        assert ((landmarks[:, :2] > -0.5) & (landmarks[:, :2] < 1.5)).all()
    assert with_person == body["frames_with_person"] > 0
    # a frame scored as a clear T-pose is one reported in detected_poses, mostly
    clear = {f["frame_index"] for f in frames if (f["scores"]["t_pose"] or 0) >= 0.9}
    assert clear and len(clear & set(body["detected_poses"]["t_pose"])) >= 0.8 * len(clear)


def test_health_stays_fast_during_an_analysis(server: Server, labels) -> None:
    """/health answers within a second, ten times, while the hip-hop clip
    (459 frames, many seconds of landmarks) is being analyzed; the same
    request's result is then checked against the contract."""
    assert not list(server.upload_dir.iterdir()), "leftovers from an earlier test"
    started = time.monotonic()
    analysis = Background(lambda: post_video(server.url, video(HIPHOP)))
    # The upload is on the server's disk: the analysis is under way.
    wait_until(lambda: any(server.upload_dir.iterdir()), 30, what="the upload in UPLOAD_DIR")
    time.sleep(0.5)
    latencies = []
    for _ in range(10):
        t0 = time.monotonic()
        response = http("get", server.url + "/health", timeout=10)
        latencies.append(time.monotonic() - t0)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        time.sleep(0.2)
    probes_done = time.monotonic()
    assert analysis.thread.is_alive(), "the analysis finished before the probes did; use a longer clip"
    assert any(entry.name.startswith("dancepose-") for entry in server.upload_dir.iterdir())
    assert max(latencies) < 1.0, [round(latency, 3) for latency in latencies]

    response = analysis.result()
    assert analysis.finished_at is not None and analysis.finished_at > probes_done
    assert response.status_code == 200, response.text
    body = response.json()
    assert_contract(body)
    assert body["video"]["filename"] == HIPHOP
    assert (body["video"]["width"], body["video"]["height"]) == (718, 1280)
    assert body["video"]["frame_count"] == 459
    assert body["video"]["fps"] == pytest.approx(30.0)
    assert body["processing_s"] <= time.monotonic() - started + 0.5
    assert body["frames_with_person"] >= 440
    # A solo dancer who lifts both hands over the head only briefly (about
    # 382-388, a frame there labelled ?): none of her frames labelled not
    # arms up is reported as arms up.
    down = label_rows(labels, HIPHOP, "arms_up", "0")
    assert len(down) > 40
    assert not down & set(body["detected_poses"]["arms_up"]), sorted(
        down & set(body["detected_poses"]["arms_up"])
    )
    # Plainly upright stretches, labelled standing=1.
    upright = {30, 50, 200, 300, 320}
    assert upright <= label_rows(labels, HIPHOP, "standing", "1")
    assert upright <= set(body["detected_poses"]["standing"])


# ---------------------------------------------------------------- client errors


def test_400_without_a_file(server: Server) -> None:
    assert_error(http("post", server.url + "/analyze", timeout=10), 400, "missing_file")
    # a plain form field named video is not a file
    response = http("post", server.url + "/analyze", data={"video": "dance.mp4"}, timeout=10)
    assert_error(response, 400, "missing_file")
    # a file under another field name
    response = post_video(server.url, video(ARM_CIRCLES), field="upload")
    assert_error(response, 400, "missing_file")
    # not multipart at all
    response = http("post", server.url + "/analyze", json={"video": "x"}, timeout=10)
    assert_error(response, 400, "missing_file")


def _png() -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((32, 48, 3), 127, np.uint8))
    assert ok
    return encoded.tobytes()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"this is a text file, not a dance video\n" * 20),
        ("dance.mp4", b"plain text with a video file name\n"),
        ("random.mp4", np.random.default_rng(7).integers(0, 256, 65536, dtype=np.uint8).tobytes()),
        ("image.mp4", _png()),
        ("empty.mp4", b""),
    ],
    ids=["text", "text-named-mp4", "random-bytes", "png-image", "zero-bytes"],
)
def test_415_not_a_video(server: Server, name: str, content: bytes) -> None:
    response = post_video(server.url, content=content, filename=name)
    assert_error(response, 415, "not_a_video", server.upload_dir)


@pytest.mark.parametrize(
    "name", ["truncated_head.mp4", "moov_renamed.mp4", "frames_zeroed.mp4", "truncated_moov_first.mp4"]
)
def test_422_undecodable_video(server: Server, clips: Path, name: str) -> None:
    response = post_video(server.url, clips / name)
    assert_error(response, 422, "undecodable_video", server.upload_dir, clips)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (make deps)")
def test_audio_only_mp4(server: Server, tmp_path: Path) -> None:
    """An MP4 (isom brand) with only an audio track has no video frames: 422;
    the same audio as an .m4a (audio/mp4 brand) is not a video: 415."""
    for suffix in ("mp4", "m4a"):
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"]
            + [str(tmp_path / f"audio.{suffix}")],
            check=True,
            timeout=60,
        )
    assert_error(post_video(server.url, tmp_path / "audio.mp4"), 422, "undecodable_video")
    assert_error(post_video(server.url, tmp_path / "audio.m4a"), 415, "not_a_video")


@pytest.mark.parametrize(
    "params",
    [
        {"smoothing_ms": "abc"},
        {"smoothing_ms": "-5"},
        {"smoothing_ms": "1e2x"},
        {"min_segment_ms": "long"},
        {"min_segment_ms": "-1"},
        {"include": "landmarks"},
    ],
    ids=lambda params: "&".join(f"{k}={v}" for k, v in params.items()),
)
def test_400_bad_parameter(server: Server, clips: Path, params: dict[str, str]) -> None:
    response = post_video(server.url, clips / "tiny.mp4", params=params)
    error = assert_error(response, 400, "bad_parameter")
    assert next(iter(params)) in error["message"]


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_400_non_finite_smoothing_ms(server: Server, clips: Path, value: str) -> None:
    response = post_video(server.url, clips / "tiny.mp4", params={"smoothing_ms": value})
    assert_error(response, 400, "bad_parameter")


def test_404_and_405_are_json(server: Server) -> None:
    assert_error(http("get", server.url + "/nope", timeout=10), 404, "not_found")
    assert_error(http("get", server.url + "/analyze", timeout=10), 405, "method_not_allowed")
    assert_error(http("delete", server.url + "/health", timeout=10), 405, "method_not_allowed")


def test_405_has_allow_header(server: Server) -> None:
    response = http("get", server.url + "/analyze", timeout=10)
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


# ---------------------------------------------------------------- upload limit (dedicated server)


@pytest.fixture(scope="module")
def small_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server({"MAX_UPLOAD_MB": "1", "ANALYSIS_WORKERS": "1"}, tmp_path_factory.mktemp("small-server"))
    yield running
    running.stop()


def test_413_too_large(small_server: Server) -> None:
    clip = video(JUMPING_JACKS)
    assert clip.stat().st_size > 2 * 1024 * 1024
    error = assert_error(post_video(small_server.url, clip), 413, "request_entity_too_large")
    assert "1 MB" in error["message"]
    # Without a Content-Length (chunked), the limit holds as well.
    boundary = "dancepose-boundary"

    def chunks() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        for _ in range(40):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = http(
        "post",
        small_server.url + "/analyze",
        data=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    assert_error(response, 413, "request_entity_too_large")
    # A small upload is not refused by the limit (it gets as far as sniffing).
    response = post_video(small_server.url, content=b"not a video", filename="small.mp4")
    assert_error(response, 415, "not_a_video")
    assert not list(small_server.upload_dir.iterdir())


# ---------------------------------------------------------------- 500 (dedicated server)


@pytest.fixture(scope="module")
def broken_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose UPLOAD_DIR does not exist: saving any upload fails with
    an OSError nobody expects, which must become a bare 500."""
    tmp = tmp_path_factory.mktemp("broken-server")
    running = Server({"UPLOAD_DIR": str(tmp / "missing" / "dir"), "ANALYSIS_WORKERS": "1"}, tmp)
    yield running
    running.stop()


def test_500_unexpected_error(broken_server: Server, clips: Path) -> None:
    response = post_video(broken_server.url, clips / "tiny.mp4")
    error = assert_error(response, 500, "internal", "missing/dir", "No such file", "Errno")
    assert error["message"] == "internal server error"
    # the server is still up
    assert http("get", broken_server.url + "/health", timeout=5).status_code == 200


# ---------------------------------------------------------------- analysis time limit (dedicated server)


@pytest.fixture(scope="module")
def slow_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """ANALYSIS_TIMEOUT_S=1.5 and one landmark worker: the hip-hop clip (459
    frames, over 10 s of landmarks here) cannot finish in time; a 5-frame
    clip (about 0.3 s) can."""
    running = Server(
        {"ANALYSIS_TIMEOUT_S": "1.5", "ANALYSIS_WORKERS": "1"}, tmp_path_factory.mktemp("slow-server")
    )
    yield running
    running.stop()


def test_504_on_timeout_then_recovers(slow_server: Server, clips: Path) -> None:
    gunicorn_before = gunicorn_workers(slow_server)
    assert len(gunicorn_before) == 1
    wait_until(lambda: len(landmark_workers(slow_server)) == 1, 60, what="the landmark worker")
    landmark_before = landmark_workers(slow_server)

    started = time.monotonic()
    response = post_video(slow_server.url, video(HIPHOP))
    elapsed = time.monotonic() - started
    error = assert_error(response, 504, "analysis_timeout", slow_server.upload_dir)
    assert "1.5 s" in error["message"]
    assert elapsed < 8, f"the analysis was not stopped at its limit ({elapsed:.1f} s)"
    # The worker that ran past the limit is gone (killed and reaped).
    assert not is_alive(landmark_before[0])
    assert not list(slow_server.upload_dir.iterdir())

    # The next request gets a fresh worker and succeeds.
    response = post_video(slow_server.url, clips / "tiny.mp4")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_contract(body)
    assert body["total_frames"] == 5
    after = landmark_workers(slow_server)
    assert len(after) == 1 and after != landmark_before
    # The pool handled it: gunicorn did not have to restart its worker.
    assert gunicorn_workers(slow_server) == gunicorn_before


# ---------------------------------------------------------------- a landmark worker killed mid-analysis


def test_killed_worker_is_500_then_recovers(server: Server) -> None:
    wait_until(lambda: len(landmark_workers(server)) == 2, 60, what="two landmark workers")
    before = landmark_workers(server)

    def idle() -> bool:
        ticks = {pid: cpu_ticks(pid) for pid in before}
        time.sleep(0.3)
        return all(cpu_ticks(pid) - start <= 1 for pid, start in ticks.items())

    # A worker still loading the model burns CPU too: start from idle ones.
    wait_until(idle, 60, what="idle landmark workers")
    analysis = Background(lambda: post_video(server.url, video(ARM_RAISES)))

    # Find a worker busy with this request (the clip is split between both
    # workers, and nothing else runs): one burning CPU.
    busy = None
    deadline = time.monotonic() + 30
    while busy is None and time.monotonic() < deadline and analysis.thread.is_alive():
        ticks = {pid: cpu_ticks(pid) for pid in before}
        time.sleep(0.3)
        used = {pid: cpu_ticks(pid) - start for pid, start in ticks.items()}
        pid, most = max(used.items(), key=lambda item: item[1])
        if most >= 5:
            busy = pid
    assert busy is not None, "no landmark worker became busy"
    assert analysis.thread.is_alive(), "the analysis finished before the worker could be killed"
    os.kill(busy, signal.SIGKILL)

    response = analysis.result()
    error = assert_error(response, 500, "worker_crashed", server.upload_dir)
    assert "died" in error["message"]
    wait_until(lambda: not is_alive(busy), 10, what="the killed worker to be reaped")
    assert not list(server.upload_dir.iterdir())

    # Both slots work again: the survivor and a replacement for the killed one.
    followups = [Background(lambda: post_video(server.url, video(ARM_CIRCLES))) for _ in range(2)]
    for followup in followups:
        response = followup.result()
        assert response.status_code == 200, response.text
        assert_contract(response.json())
    after = landmark_workers(server)
    assert len(after) == 2 and busy not in after
    assert set(after) - set(before), "no replacement worker was started"


# ---------------------------------------------------------------- temp files


def test_upload_dir_is_empty_after_all_requests(server: Server, clips: Path) -> None:
    """Whatever happened above (200, 4xx, 500 after a kill), no upload is
    left behind; one more of each kind here, for a run of this test alone."""
    assert post_video(server.url, clips / "tiny.mp4").status_code == 200
    assert post_video(server.url, clips / "frames_zeroed.mp4").status_code == 422
    assert post_video(server.url, content=b"text", filename="a.mp4").status_code == 415
    assert post_video(server.url, clips / "tiny.mp4", params={"poses": "nope"}).status_code == 400
    leftovers = sorted(path.name for path in server.upload_dir.iterdir())
    assert leftovers == []
