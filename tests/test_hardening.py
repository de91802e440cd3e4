"""Hardening against a real gunicorn process: video limits, containers,
temp files, overload, shutdown, API keys, rate limits, CORS, request IDs
and JSON logs."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Server, video
from tests.test_api import ARM_CIRCLES, ARM_RAISES, Background, assert_error, http, post_video, wait_until


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Videos in every accepted container, and broken or hostile files, made
    here from a shared clip with ffmpeg and byte surgery."""
    folder = tmp_path_factory.mktemp("media")
    source = str(video(ARM_CIRCLES))
    clip = ["-i", source, "-t", "1"]
    ffmpeg(*clip, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(folder / "ok.mp4"))
    ffmpeg(*clip, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(folder / "ok.mov"))
    ffmpeg(*clip, "-c:v", "mjpeg", str(folder / "ok.avi"))
    ffmpeg(*clip, "-c:v", "libx264", str(folder / "ok.mkv"))
    ffmpeg(*clip, "-c:v", "libvpx", "-b:v", "500k", str(folder / "ok.webm"))
    # A tiny file that declares 7680 x 7680 frames: refused from the header.
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=7680x7680:d=0.2:r=5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        str(folder / "bomb.mp4"),
    )
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libvorbis", str(folder / "audio_only.mkv"))
    ffmpeg(*clip, "-vf", "scale=240:424", "-c:v", "libx264", str(folder / "small.mp4"))
    # 60 frames in 2 s of small frames: past a 40-frame limit only.
    ffmpeg(
        "-i",
        source,
        "-t",
        "2",
        "-vf",
        "scale=240:424,fps=30",
        "-c:v",
        "libx264",
        str(folder / "60_frames.mp4"),
    )
    data = (folder / "ok.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    moov = data.find(b"moov")
    (folder / "bad_moov.mp4").write_bytes(data[:moov] + b"mooX" + data[moov + 4 :])
    return folder


@pytest.fixture(scope="module")
def limited(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Tight limits: 3 s of video, 40 frames, 300 000 pixels a frame."""
    running = Server(
        {"MAX_VIDEO_SECONDS": "3", "MAX_FRAMES": "40", "MAX_FRAME_PIXELS": "300000"},
        tmp_path_factory.mktemp("limited"),
    )
    yield running
    running.stop()


@pytest.mark.parametrize("name", ["ok.mp4", "ok.mov", "ok.avi", "ok.mkv", "ok.webm"])
def test_every_common_container_is_analyzed(server: Server, media: Path, name: str) -> None:
    response = post_video(server.url, media / name)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_frames"] == 10 and body["frames_with_person"] >= 8


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("audio_only.mkv", 422, "undecodable_video"),
        ("truncated.mp4", 422, "undecodable_video"),
        ("bad_moov.mp4", 422, "undecodable_video"),
    ],
)
def test_containers_without_decodable_video_are_422(server: Server, media: Path, name, status, code) -> None:
    assert_error(post_video(server.url, media / name), status, code)


def test_decompression_bomb_is_refused_from_its_header(server: Server, media: Path) -> None:
    assert (media / "bomb.mp4").stat().st_size < 500_000  # 59 megapixels a frame, in a small file
    error = assert_error(post_video(server.url, media / "bomb.mp4"), 413, "video_too_large")
    assert "7680x7680" in error["message"]


def test_long_videos_are_413(limited: Server, media: Path) -> None:
    # 9 s of 352 x 640 frames: past the 3 s limit only.
    error = assert_error(post_video(limited.url, video(ARM_RAISES)), 413, "video_too_large")
    assert "longer than the limit of 3 s and 40 frames" in error["message"]
    assert_error(post_video(limited.url, media / "60_frames.mp4"), 413, "video_too_large")
    assert post_video(limited.url, media / "small.mp4").status_code == 200  # within every limit


def test_large_frames_are_413(limited: Server) -> None:
    # 480 x 848 = 407 040 pixels a frame, over the 300 000 limit.
    error = assert_error(post_video(limited.url, video(ARM_CIRCLES)), 413, "video_too_large")
    assert "480x848" in error["message"]


def test_mixed_uploads_leave_no_file_behind(server: Server, media: Path) -> None:
    good = [media / "ok.mp4", media / "ok.webm"]
    bad = [media / "truncated.mp4", media / "bad_moov.mp4", media / "audio_only.mkv"]
    junk = [b"", b"plain text\n" * 50, random.Random(7).randbytes(20_000)]
    uploads = [("file", p) for p in good + bad] * 9 + [("bytes", b) for b in junk] * 3
    assert len(uploads) >= 50

    def send(item: tuple[str, object]) -> int:
        kind, value = item
        if kind == "file":
            return post_video(server.url, value).status_code  # type: ignore[arg-type]
        return post_video(server.url, content=value, filename="x.mp4").status_code  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(send, uploads))
    assert set(statuses) <= {200, 415, 422, 503}, statuses
    assert statuses.count(200) >= 10
    wait_until(lambda: not any(server.upload_dir.iterdir()), 10, what="an empty upload directory")


@pytest.fixture
def tiny_server(model_path: Path, tmp_path: Path) -> Iterator[Server]:
    """One landmark worker and room for two analyses at once."""
    running = Server({"ANALYSIS_WORKERS": "1", "MAX_PENDING_ANALYSES": "2"}, tmp_path)
    yield running
    running.stop()


def test_overload_is_503_at_once_and_health_stays_fast(tiny_server: Server) -> None:
    clip = video(ARM_RAISES)
    running = [Background(lambda: post_video(tiny_server.url, clip)) for _ in range(2)]
    wait_until(lambda: len(list(tiny_server.upload_dir.iterdir())) == 2, 30, what="two uploads in analysis")
    started = time.monotonic()
    refused = post_video(tiny_server.url, clip)
    assert time.monotonic() - started < 5
    assert_error(refused, 503, "busy")
    assert int(refused.headers["Retry-After"]) > 0
    latencies = []
    for _ in range(10):
        t0 = time.monotonic()
        assert http("get", tiny_server.url + "/health", timeout=5).status_code == 200
        latencies.append(time.monotonic() - t0)
        time.sleep(0.1)
    assert max(latencies) < 1.0, latencies
    assert all(b.result().status_code == 200 for b in running)
    assert post_video(tiny_server.url, video(ARM_CIRCLES)).status_code == 200


def test_sigterm_finishes_the_analysis_in_flight(model_path: Path, tmp_path: Path) -> None:
    running = Server({"ANALYSIS_WORKERS": "1"}, tmp_path)
    try:
        in_flight = Background(lambda: post_video(running.url, video(ARM_RAISES)))
        wait_until(lambda: any(running.upload_dir.iterdir()), 30, what="the upload in analysis")
        running.process.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                requests.get(running.url + "/health", timeout=1)
            except requests.RequestException:
                return True
            return False

        wait_until(refused, 10, interval=0.2, what="new connections to be refused")
        assert in_flight.finished_at is None, "the analysis should still be running"
        response = in_flight.result()
        assert response.status_code == 200 and response.json()["total_frames"] == 273
        assert running.process.wait(timeout=60) == 0
    finally:
        running.stop()


@pytest.fixture(scope="module")
def guarded(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """API keys, 2 uploads a minute per client, CORS for one origin, one proxy hop."""
    running = Server(
        {
            "API_KEYS": "alpha-key,beta-key",
            "RATE_LIMIT": "2 per minute",
            "CORS_ORIGINS": "https://app.example",
            "FORWARDED_HOPS": "1",
        },
        tmp_path_factory.mktemp("guarded"),
    )
    yield running
    running.stop()


def keyed(key: str, client: str) -> dict[str, str]:
    return {"X-API-Key": key, "X-Forwarded-For": client}


def test_api_keys_are_required_except_for_health(guarded: Server) -> None:
    assert http("get", guarded.url + "/health").status_code == 200
    clip = video(ARM_CIRCLES).read_bytes()
    files = {"video": ("a.mp4", clip)}
    missing = http("post", guarded.url + "/analyze", files=files, headers={"X-Forwarded-For": "10.0.0.1"})
    assert_error(missing, 401, "unauthorized")
    wrong = http("post", guarded.url + "/analyze", files=files, headers=keyed("alpha-kez", "10.0.0.2"))
    assert_error(wrong, 401, "unauthorized")
    ok = http("post", guarded.url + "/analyze", files=files, headers=keyed("beta-key", "10.0.0.3"))
    assert ok.status_code == 200, ok.text
    # What a browser fetches without headers stays public: the page, its
    # assets, the docs, and annotated videos (unguessable ids).
    for path in ("/", "/assets/app.js", "/docs", "/openapi.json", "/poses"):
        assert http("get", guarded.url + path).status_code == 200, path
    assert_error(http("get", guarded.url + "/annotated/unknown-id.mp4"), 404, "not_found")


def test_rate_limit_is_per_client_behind_one_proxy(guarded: Server) -> None:
    files = {"video": ("a.mp4", video(ARM_CIRCLES).read_bytes())}

    def send(client: str) -> requests.Response:
        return http("post", guarded.url + "/analyze", files=files, headers=keyed("alpha-key", client))

    # With one trusted hop the client is the last X-Forwarded-For entry:
    # a spoofed first entry does not make a new client.
    assert send("6.6.6.6, 203.0.113.9").status_code == 200
    assert send("7.7.7.7, 203.0.113.9").status_code == 200
    limited = send("8.8.8.8, 203.0.113.9")
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0
    assert send("203.0.113.10").status_code == 200  # another client is not limited
    assert http("get", guarded.url + "/health", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200


def test_cors_allows_only_the_configured_origin(guarded: Server) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"}
    allowed = http(
        "options", guarded.url + "/analyze", headers={"Origin": "https://app.example", **preflight}
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert "x-api-key" in allowed.headers.get("Access-Control-Allow-Headers", "").lower()
    other = http("options", guarded.url + "/analyze", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_request_ids_reach_the_response_and_the_json_logs(server: Server) -> None:
    mine = http("get", server.url + "/health", headers={"X-Request-ID": "trace-123.abc"})
    assert mine.headers["X-Request-ID"] == "trace-123.abc"
    made = http("get", server.url + "/nope")
    assert len(made.headers["X-Request-ID"]) == 32
    hostile = http("get", server.url + "/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["X-Request-ID"] != "bad id\twith spaces"
    error = post_video(server.url, content=b"text", filename="x.mp4")
    rid = error.headers["X-Request-ID"]

    def logged() -> list[dict]:
        lines = [line for line in server.log_path.read_text().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]

    wait_until(lambda: any(r.get("request_id") == rid for r in logged()), 10, what="the access log line")
    access = next(r for r in logged() if r.get("request_id") == rid)
    assert (
        access["logger"] == "gunicorn.access" and access["status"] == "415" and access["path"] == "/analyze"
    )


def test_a_client_that_disconnects_leaves_no_file(server: Server) -> None:
    """Mid-upload and mid-analysis disconnects: the upload is removed either way."""
    body = video(ARM_RAISES).read_bytes()
    boundary = "dancepose-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    request_head = (
        f"POST /analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + len(body) + len(tail)}\r\n\r\n"
    ).encode()
    # 1. Gone halfway through the upload.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_head + head + body[: len(body) // 2])
    # 2. Gone while the analysis runs.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_head + head + body + tail)
        wait_until(lambda: any(server.upload_dir.iterdir()), 30, what="the upload in analysis")
    wait_until(lambda: not any(server.upload_dir.iterdir()), 120, what="an empty upload directory")
    assert http("get", server.url + "/health").status_code == 200


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    params=st.dictionaries(
        st.sampled_from(["poses", "include", "smoothing_ms", "min_segment_ms", "sample_fps", "annotate"]),
        st.one_of(st.text(max_size=30), st.sampled_from(["nan", "-1", "1e309", "t_pose", "frames", "[{}]"])),
        max_size=4,
    ),
    content=st.one_of(st.binary(max_size=2048), st.just(b"")),
    field=st.sampled_from(["video", "file", "other"]),
)
def test_fuzzed_requests_get_a_json_answer_never_a_500(server: Server, params, content, field) -> None:
    """Property: whatever the fields and the bytes, the answer is the JSON
    error envelope with a 4xx status (random bytes are never a video)."""
    response = http(
        "post",
        server.url + "/analyze",
        params=params,
        files={field: ("f.mp4", content, "application/octet-stream")},
        timeout=60,
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert list(response.json()) == ["error"]
    assert "Traceback" not in response.text
