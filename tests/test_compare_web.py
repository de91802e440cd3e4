"""The page's Compare view (``/#compare``) in a real headless Chromium
against a real gunicorn server: choose a reference and a performance (the
arm-circles clip and the same clip starting 0.5 s late), then check the
score and body parts against the API's JSON, the timeline coloured by
segment score, both skeletons, and the performance kept in step with the
reference along the alignment path."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from tests.browser import chromium
from tests.compare_media import make_variant
from tests.conftest import Server, video
from tests.test_cli import ARM_CIRCLES

WIDTH, HEIGHT = 480, 848  # the arm-circles clip, 10 fps
ROLES = ("reference", "performance")


@dataclass
class Compared:
    """The page after comparing, and what the API answered it."""

    page: Page
    body: dict[str, Any]
    statuses: list[str]
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def compared(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compared]:
    late = make_variant(video(ARM_CIRCLES), "late_0.5s", tmp_path_factory.mktemp("late"))
    with chromium() as browser:
        yield from _compare(browser, server, late)


def _compare(browser: Browser, server: Server, late: Path) -> Iterator[Compared]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(server.url + "/#compare")
    assert page.is_visible("#compare-view") and page.is_hidden("#intake")
    assert page.is_disabled("#compare-start")
    page.set_input_files("#compare-reference", str(video(ARM_CIRCLES)))
    page.set_input_files("#compare-performance", str(late))
    statuses: list[str] = []
    with page.expect_response(lambda response: "/compare?" in response.url, timeout=180_000) as answer:
        page.click("#compare-start")
        deadline = time.monotonic() + 180
        while not page.is_visible("#compare-results") and time.monotonic() < deadline:
            if page.is_visible("#compare-status"):
                statuses.append(page.inner_text("#compare-status-text"))
            time.sleep(0.1)
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector("#compare-results", state="visible")
    for role in ROLES:
        page.wait_for_function(f"document.getElementById('compare-{role}-video').readyState >= 2")
    yield Compared(page, answer.value.json(), statuses, errors)
    context.close()


def settle(page: Page) -> None:
    """Wait until neither video is seeking and two frames were painted."""
    page.wait_for_function(
        "() => ['reference', 'performance']"
        ".every((r) => !document.getElementById(`compare-${r}-video`).seeking)"
    )
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def seek_reference(page: Page, seconds: float) -> None:
    page.evaluate("(t) => { document.getElementById('compare-reference-video').currentTime = t; }", seconds)
    settle(page)
    settle(page)  # the performance is seeked in turn


def drawn_joints(page: Page, role: str, landmarks: list[list[float]]) -> tuple[int, int, int]:
    """(joints with paint near them, joints checked, painted pixels) on a
    role's canvas, for a frame's visible in-frame landmarks."""
    return page.evaluate(
        """([role, landmarks, width, height]) => {
            const canvas = document.getElementById(`compare-${role}-overlay`);
            const context = canvas.getContext('2d');
            const scale = Math.min(canvas.width / width, canvas.height / height);
            const left = (canvas.width - width * scale) / 2, top = (canvas.height - height * scale) / 2;
            const all = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < all.length; i += 4) painted += all[i] > 0;
            let hits = 0, checked = 0;
            for (const [x, y, , visibility] of landmarks) {
                if (visibility < 0.5 || x < 0.02 || x > 0.98 || y < 0.02 || y > 0.98) continue;
                checked += 1;
                const data = context.getImageData(Math.round(left + x * width * scale) - 2,
                                                  Math.round(top + y * height * scale) - 2, 5, 5).data;
                let most = 0;
                for (let i = 3; i < data.length; i += 4) most = Math.max(most, data[i]);
                hits += most > 0;
            }
            return [hits, checked, painted];
        }""",
        [role, landmarks, WIDTH, HEIGHT],
    )


def test_progress_is_shown(compared: Compared) -> None:
    # 53 frames of the reference and 58 of the late performance.
    counted = [s for s in compared.statuses if re.fullmatch(r"Analyzing both videos: frame \d+ of 111", s)]
    assert counted, compared.statuses
    assert compared.page.is_hidden("#compare-status") and compared.page.is_hidden("#compare-error")


def test_scores_match_the_api(compared: Compared) -> None:
    page, body = compared.page, compared.body
    assert page.inner_text("#compare-score") == f"{body['score']:.0f}"
    rows = page.eval_on_selector_all(
        "#compare-parts tbody tr", "rows => rows.map(r => [r.dataset.part, r.cells[1].innerText.trim()])"
    )
    assert rows == [[part, f"{score:.0f}"] for part, score in body["body_parts"].items()]
    assert "0.50 s late" in page.inner_text("#compare-facts")
    assert page.is_hidden("#compare-mirrored")


def test_timeline_is_coloured_by_segment_score(compared: Compared) -> None:
    page, body = compared.page, compared.body
    shown = page.eval_on_selector_all(
        ".score-seg",
        """buttons => buttons.map(b => ({start_ms: +b.dataset.startMs, end_ms: +b.dataset.endMs,
                                         colour: getComputedStyle(b).backgroundColor, label: b.title}))""",
    )
    assert [(s["start_ms"], s["end_ms"]) for s in shown] == [
        (s["start_ms"], s["end_ms"]) for s in body["segments"]
    ]
    for on_page, segment in zip(shown, body["segments"], strict=True):
        assert f"score {segment['score']:.0f}" in on_page["label"]
        # Red (hue 0) at score 0 to green (hue 120) at 100, as compare.js's scoreColour.
        assert colour_hue(on_page["colour"]) == pytest.approx(1.2 * segment["score"], abs=3)


def colour_hue(css: str) -> float:
    """Hue in degrees of an ``rgb(r, g, b)`` colour."""
    r, g, b = (int(part) / 255 for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    high, low = max(r, g, b), min(r, g, b)
    if high == low:
        return 0.0
    if high == r:
        return (60 * (g - b) / (high - low)) % 360
    if high == g:
        return 60 * (b - r) / (high - low) + 120
    return 60 * (r - g) / (high - low) + 240


def test_the_performance_follows_the_alignment_path(compared: Compared) -> None:
    page, body = compared.page, compared.body
    path = np.array(body["path"])
    for seconds in (1.0, 3.2, 0.3):
        seek_reference(page, seconds)
        expected = np.interp(seconds * 1000, path[:, 0], path[:, 1]) / 1000
        now = page.evaluate("document.getElementById('compare-performance-video').currentTime")
        assert now == pytest.approx(expected, abs=0.01)
    # 0.5 s late: the performance shows the same moment 0.5 s further on.
    seek_reference(page, 2.0)
    assert page.evaluate("document.getElementById('compare-performance-video').currentTime") == pytest.approx(
        2.5, abs=0.1
    )


def test_both_skeletons_are_drawn(compared: Compared, tmp_path: Path) -> None:
    page, body = compared.page, compared.body
    seek_reference(page, 2.0)
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    times = {
        role: page.evaluate(f"document.getElementById('compare-{role}-video').currentTime") for role in ROLES
    }
    for role in ROLES:
        frames = [f for f in body["frames"][role] if f["timestamp_ms"] <= times[role] * 1000 + 1]
        hits, checked, painted = drawn_joints(page, role, frames[-1]["landmarks"])
        assert checked >= 15 and painted > 500, (role, checked, painted)
        assert hits >= 0.9 * checked, (role, hits, checked)


def test_playing_plays_both(compared: Compared) -> None:
    page = compared.page
    seek_reference(page, 0.5)
    page.evaluate("document.getElementById('compare-reference-video').play()")
    page.wait_for_function(
        "document.getElementById('compare-reference-video').currentTime > 1.5", timeout=10_000
    )
    assert page.evaluate("!document.getElementById('compare-performance-video').paused")
    page.evaluate("document.getElementById('compare-reference-video').pause()")
    settle(page)
    reference = page.evaluate("document.getElementById('compare-reference-video').currentTime")
    performance = page.evaluate("document.getElementById('compare-performance-video').currentTime")
    assert performance - reference == pytest.approx(0.5, abs=0.15)


def test_phone_layout(compared: Compared, tmp_path: Path) -> None:
    """At 390 x 844 nothing overflows sideways and both videos stay in view."""
    page = compared.page
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        settle(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for role in ROLES:
            box = page.evaluate(
                f"document.getElementById('compare-{role}-video').getBoundingClientRect().width"
            )
            assert box >= 120
        page.screenshot(path=str(tmp_path / "compare-phone.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_the_analyze_view_comes_back(compared: Compared) -> None:
    page = compared.page
    page.click("#nav-analyze")
    page.wait_for_selector("#intake", state="visible")
    assert page.is_hidden("#compare-view")
    page.click("#nav-compare")
    page.wait_for_selector("#compare-view", state="visible")


def test_no_script_errors(compared: Compared) -> None:
    assert compared.errors == []


def test_api_errors_are_shown(compared: Compared, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    page = compared.page.context.new_page()
    try:
        page.goto(compared.page.url)
        page.set_input_files("#compare-reference", str(video(ARM_CIRCLES)))
        page.set_input_files("#compare-performance", str(text))
        page.click("#compare-start")
        page.wait_for_selector("#compare-error", state="visible", timeout=60_000)
        message = page.inner_text("#compare-error")
        assert "not_a_video" in message and "performance video" in message
        assert page.is_hidden("#compare-results") and page.is_hidden("#compare-status")
    finally:
        page.close()
