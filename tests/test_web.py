"""The web page at ``/`` in a real headless Chromium against a real gunicorn
server: upload a shared clip, watch the progress, then check the timeline
against the API's JSON, the skeleton on the canvas, seeking by clicking a
segment, the summary, the JSON download, the phone layout, and the
annotated MP4 (decoded here, and played by Chromium). Screenshots go to
pytest's temporary directory."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from analyzer.render.skeleton import POSE_CONNECTIONS
from tests.browser import chromium
from tests.conftest import Server, video
from tests.openapi_check import assert_documented
from tests.test_api import ARM_RAISES, HIPHOP, http, mp4_boxes

#: The clip: 273 frames of 352 x 640 at 30.416 fps, with a dozen arms-up
#: segments (a few seconds of analysis).
CLIP = ARM_RAISES
FRAMES, WIDTH, HEIGHT = 273, 352, 640


@dataclass
class Analyzed:
    """The page after analyzing ``CLIP``, and what the API answered it."""

    page: Page
    body: dict[str, Any]
    statuses: list[str]
    job: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def annotated_dir(server_tmp: Path) -> Path:
    """Where the web server keeps annotated videos: beside its uploads."""
    return server_tmp / "annotated"


@pytest.fixture(scope="module")
def web_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that keeps annotated videos in a temporary directory."""
    tmp = tmp_path_factory.mktemp("web-server")
    running = Server({"ANALYSIS_WORKERS": "2", "ANNOTATED_DIR": str(annotated_dir(tmp))}, tmp)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def analyzed(browser: Browser, web_server: Server) -> Iterator[Analyzed]:
    """Choose ``CLIP`` in the page (annotated MP4 on, the default) and wait
    for the results, noting the status lines shown meanwhile; the job the
    page followed is read from the API too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if console_error(message) else None)
    page.goto(web_server.url + "/")
    assert page.is_checked("#annotate")
    statuses: list[str] = []
    with page.expect_response(lambda response: "/analyses?" in response.url, timeout=60_000) as answer:
        page.set_input_files("#file", str(video(CLIP)))
    assert answer.value.status == 202, answer.value.text()
    job_id = answer.value.json()["id"]
    deadline = time.monotonic() + 180
    while not page.is_visible("#results") and time.monotonic() < deadline:
        if page.is_visible("#status"):
            statuses.append(page.inner_text("#status-text"))
        time.sleep(0.1)
    page.wait_for_selector("#results", state="visible")
    page.wait_for_function("document.getElementById('video').readyState >= 2")
    assert page.url.endswith(f"?analysis={job_id}")
    job = http("get", f"{web_server.url}/analyses/{job_id}", timeout=10).json()
    assert job["status"] == "succeeded"
    yield Analyzed(page, job["result"], statuses, job, errors)
    context.close()


def console_error(message: ConsoleMessage) -> bool:
    """An error in the console, other than Chromium's note of the expected
    404 of ``POST /uploads`` (the page asks whether it may upload straight
    to S3; this server keeps uploads itself)."""
    uploads_404 = message.location.get("url", "").endswith("/uploads") and "404" in message.text
    return message.type == "error" and not uploads_404


def seek(page: Page, seconds: float) -> None:
    """Seek the page's video and wait until the new frame is drawn."""
    page.evaluate("(t) => { document.getElementById('video').currentTime = t; }", seconds)
    settle(page)


def settle(page: Page) -> None:
    page.wait_for_function("() => { const v = document.getElementById('video'); return !v.seeking; }")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def test_progress_is_shown(analyzed: Analyzed) -> None:
    counted = [s for s in analyzed.statuses if re.fullmatch(rf"Analyzing: frame \d+ of {FRAMES}", s)]
    assert counted, analyzed.statuses
    assert "Drawing the annotated video…" in analyzed.statuses
    assert analyzed.page.is_hidden("#status") and analyzed.page.is_hidden("#error")


def test_timeline_matches_the_analysis(analyzed: Analyzed, tmp_path: Path) -> None:
    page, body = analyzed.page, analyzed.body
    poses = [entry["pose"] for entry in body["pose_summary"]]
    assert page.eval_on_selector_all(".lane", "lanes => lanes.map(l => l.dataset.pose)") == poses
    shown = page.eval_on_selector_all(
        ".seg",
        """buttons => buttons.map(b => {
            const lane = b.parentElement.getBoundingClientRect(), box = b.getBoundingClientRect();
            return {lane: b.parentElement.dataset.pose, pose: b.dataset.pose,
                    start_frame: +b.dataset.startFrame, end_frame: +b.dataset.endFrame,
                    left: (box.left - lane.left) / lane.width};
        })""",
    )
    expected = sorted((s["pose"], s["start_frame"], s["end_frame"]) for s in body["segments"])
    assert sorted((s["pose"], s["start_frame"], s["end_frame"]) for s in shown) == expected
    assert len(expected) >= 5, "the clip should give several segments"
    assert all(s["lane"] == s["pose"] for s in shown)
    duration_ms = body["video"]["duration_s"] * 1000
    starts = {(s["pose"], s["start_frame"]): s["start_ms"] for s in body["segments"]}
    for segment in shown:
        assert segment["left"] == pytest.approx(
            starts[segment["pose"], segment["start_frame"]] / duration_ms, abs=0.01
        )

    rows = page.eval_on_selector_all(
        "#summary tbody tr", "rows => rows.map(r => [r.dataset.pose, r.cells[2].textContent])"
    )
    assert rows == [[entry["pose"], str(entry["frames_detected"])] for entry in body["pose_summary"]]
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)


def canvas_alpha(page: Page, points: list[tuple[int, int]]) -> tuple[list[int], int]:
    """Largest alpha of the overlay canvas around each point (5 x 5), and the
    number of drawn pixels."""
    return page.evaluate(
        """(points) => {
            const canvas = document.getElementById('overlay');
            const context = canvas.getContext('2d');
            const all = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let drawn = 0;
            for (let i = 3; i < all.length; i += 4) drawn += all[i] > 0;
            const near = points.map(([x, y]) => {
                const data = context.getImageData(x - 2, y - 2, 5, 5).data;
                let most = 0;
                for (let i = 3; i < data.length; i += 4) most = Math.max(most, data[i]);
                return most;
            });
            return [near, drawn];
        }""",
        points,
    )


def joints_on_canvas(page: Page, landmarks: list[list[float]]) -> list[tuple[int, int]]:
    """Canvas pixels of a frame's visible, in-frame landmarks (the picture is
    letterboxed in the video element, as object-fit: contain)."""
    width, height = page.evaluate(
        "() => { const c = document.getElementById('overlay'); return [c.width, c.height]; }"
    )
    scale = min(width / WIDTH, height / HEIGHT)
    left, top = (width - WIDTH * scale) / 2, (height - HEIGHT * scale) / 2
    return [
        (round(left + x * WIDTH * scale), round(top + y * HEIGHT * scale))
        for x, y, _, visibility in landmarks
        if visibility >= 0.5 and 0.02 < x < 0.98 and 0.02 < y < 0.98
    ]


def test_skeleton_is_drawn_in_step_with_the_video(analyzed: Analyzed) -> None:
    """At two times, the canvas has the skeleton of the frame on screen: a
    drawn joint at (nearly) every landmark of that frame."""
    page, body = analyzed.page, analyzed.body
    frames = body["frames"]
    fps = body["video"]["fps"]
    drawings = []
    for index in (40, 200):
        seek(page, frames[index]["timestamp_ms"] / 1000 + 0.2 / fps)
        points = joints_on_canvas(page, frames[index]["landmarks"])
        alphas, drawn = canvas_alpha(page, points)
        assert len(points) >= 20 and drawn > 1000
        hits = sum(alpha > 0 for alpha in alphas)
        assert hits >= 0.9 * len(points), f"frame {index}: {hits} of {len(points)} joints drawn"
        drawings.append(page.evaluate("document.getElementById('overlay').toDataURL()"))
    assert drawings[0] != drawings[1]


def test_clicking_a_segment_seeks_the_video(analyzed: Analyzed) -> None:
    page, body = analyzed.page, analyzed.body
    duration, fps = body["video"]["duration_s"], body["video"]["fps"]
    later = [s for s in body["segments"] if s["pose"] == "arms_up" and s["start_ms"] > 2000]
    assert len(later) >= 2
    for segment in (later[-1], later[0]):
        page.click(f'.seg[data-pose="arms_up"][data-start-frame="{segment["start_frame"]}"]')
        settle(page)
        now = page.evaluate("document.getElementById('video').currentTime")
        # on the segment's first frame
        assert segment["start_ms"] / 1000 <= now < (segment["start_ms"] + 1000 / fps) / 1000
        playhead = page.evaluate(
            """() => { const lanes = document.getElementById('lanes').getBoundingClientRect();
                      const head = document.getElementById('playhead').getBoundingClientRect();
                      return (head.left + head.width / 2 - lanes.left) / lanes.width; }"""
        )
        assert playhead == pytest.approx(now / duration, abs=0.01)
        assert "arms_up" in page.inner_text("#now")


def test_playback_moves_the_playhead(analyzed: Analyzed) -> None:
    page = analyzed.page
    seek(page, 0)
    before = page.evaluate("document.getElementById('playhead').style.left")
    page.evaluate("document.getElementById('video').play()")
    page.wait_for_function("document.getElementById('video').currentTime > 0.5", timeout=10_000)
    page.evaluate("document.getElementById('video').pause()")
    settle(page)
    assert page.evaluate("document.getElementById('playhead').style.left") != before


def test_download_json(analyzed: Analyzed) -> None:
    with analyzed.page.expect_download() as download:
        analyzed.page.click("#download")
    assert download.value.suggested_filename == Path(CLIP).stem + ".dancepose.json"
    assert json.loads(Path(download.value.path()).read_text()) == analyzed.body


def test_pose_connections_are_the_analyzers(analyzed: Analyzed) -> None:
    assert analyzed.page.evaluate("POSE_CONNECTIONS") == [list(pair) for pair in POSE_CONNECTIONS]


def test_annotated_video_plays_in_chromium(analyzed: Analyzed) -> None:
    page = analyzed.page
    player = "document.getElementById('annotated-video')"
    assert page.is_visible("#annotated-video")
    page.wait_for_function(f"{player}.readyState >= 2", timeout=30_000)
    assert page.evaluate(f"[{player}.videoWidth, {player}.videoHeight]") == [WIDTH, HEIGHT]
    assert page.evaluate(f"{player}.duration") == pytest.approx(
        FRAMES / analyzed.body["video"]["fps"], abs=0.1
    )
    page.evaluate(f"{player}.play()")
    page.wait_for_function(f"{player}.currentTime > 0.3", timeout=10_000)
    page.evaluate(f"{player}.pause()")
    assert page.evaluate(f"{player}.error") is None


def test_annotated_video_file(analyzed: Analyzed, web_server: Server, tmp_path: Path) -> None:
    """The MP4 behind the URL: H.264 4:2:0, the input's frames and size, the
    index first, byte ranges; the response that gave it follows the document."""
    body = analyzed.body
    document = http("get", web_server.url + "/openapi.json", timeout=10).json()
    annotated = analyzed.job["annotated_video"]
    expires_in_s = datetime.fromisoformat(annotated["expires_at"]).timestamp() - time.time()
    assert 0 < expires_in_s <= 900
    url = web_server.url + annotated["url"]
    whole = http("get", url, timeout=30)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/mp4"
    assert_documented(document, "/annotated/{video_id}.mp4", "get", whole)
    part = http("get", url, headers={"Range": "bytes=0-1023"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[:1024]
    assert_documented(document, "/annotated/{video_id}.mp4", "get", part)

    path = tmp_path / "annotated.mp4"
    path.write_bytes(whole.content)
    boxes = mp4_boxes(whole.content)
    assert boxes["moov"][0] < boxes["mdat"][0]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context
        assert (codec.name, codec.pix_fmt, codec.width, codec.height) == ("h264", "yuv420p", WIDTH, HEIGHT)
        assert sum(1 for _ in container.decode(stream)) == body["video"]["frame_count"] == FRAMES
    video_id = annotated["url"].rsplit("/", 1)[1].removesuffix(".mp4")
    assert [p.name for p in annotated_dir(web_server.upload_dir.parent).iterdir()] == [f"{video_id}.mp4"]


def test_phone_layout(analyzed: Analyzed, tmp_path: Path) -> None:
    """At 390 x 844 nothing overflows sideways, and the timeline keeps room."""
    page = analyzed.page
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        settle(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        lanes = page.evaluate("document.getElementById('lanes').getBoundingClientRect().width")
        assert lanes >= 200
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_no_script_errors(analyzed: Analyzed) -> None:
    assert analyzed.errors == []


def test_api_errors_are_shown(browser: Browser, web_server: Server, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    page = browser.new_page()
    try:
        page.goto(web_server.url + "/")
        page.set_input_files("#file", str(text))
        page.wait_for_selector("#error", state="visible", timeout=30_000)
        assert "not_a_video" in page.inner_text("#error")
        assert page.is_hidden("#results")
    finally:
        page.close()


def test_a_reload_shows_the_analysis_again_and_it_is_listed(browser: Browser, analyzed: Analyzed) -> None:
    """The job id is in the URL: a reload (here a new tab on the same URL)
    follows the job again and shows its results; the analysis is in the
    browser's list."""
    page = analyzed.page.context.new_page()
    try:
        page.goto(analyzed.page.url)
        page.wait_for_selector("#results", state="visible", timeout=30_000)
        rows = page.eval_on_selector_all("#summary tbody tr", "rows => rows.map(r => r.dataset.pose)")
        assert rows == [entry["pose"] for entry in analyzed.body["pose_summary"]]
        assert page.is_visible("#annotated-video") and page.is_hidden("#stage")
        listed = page.eval_on_selector_all("#history-list li", "items => items.map(i => i.dataset.id)")
        assert listed[0] == analyzed.job["id"]
    finally:
        page.close()


def test_cancel_from_the_page(browser: Browser, web_server: Server) -> None:
    page = browser.new_page()
    try:
        page.goto(web_server.url + "/")
        page.uncheck("#annotate")
        with page.expect_response(lambda response: "/analyses?" in response.url, timeout=60_000) as answer:
            page.set_input_files("#file", str(video(HIPHOP)))
        job_id = answer.value.json()["id"]
        page.wait_for_function(
            "document.getElementById('status-text').textContent.startsWith('Analyzing: frame')",
            timeout=60_000,
        )
        page.click("#cancel")
        page.wait_for_selector("#error", state="visible", timeout=10_000)
        assert "canceled" in page.inner_text("#error")
        job = http("get", f"{web_server.url}/analyses/{job_id}", timeout=10).json()
        assert job["status"] == "canceled"
    finally:
        page.close()
