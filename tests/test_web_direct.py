"""The web page on a service whose objects live in S3 (``JOB_BACKEND=aws``
on moto's server on loopback), in a real headless Chromium: the page asks
``POST /uploads``, sends the video straight to the bucket with the
presigned POST (another origin: the bucket's CORS rules, those of
``infra/jobs.yaml``, must let it in; ``tests.moto_aws`` answers CORS as S3
does), then ``POST /analyses {"video_key"}``; a result larger than
``RESULT_INLINE_MAX_BYTES`` comes from its presigned S3 URL; the
annotated MP4 plays from S3. The browser's own requests show where the
bytes went."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route

from tests.browser import chromium
from tests.conftest import Server, video
from tests.moto_aws import AwsResources, create_resources, moto_server
from tests.test_api import ARM_CIRCLES, http
from tests.test_web import console_error

#: MAX_UPLOAD_MB of the server: the clip (365 KB) fits, TOO_LARGE (2.3 MB) does not.
MAX_UPLOAD_MB = 1
TOO_LARGE = "jumping_jacks_gym_front_1280x720_60fps.mp4"
#: RESULT_INLINE_MAX_BYTES: the clip's result with frames is far larger, so
#: the page fetches it from S3.
INLINE_MAX = 1000


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsResources]:
    with moto_server() as endpoint:
        yield create_resources(endpoint, max_attempts=3)


@pytest.fixture(scope="module")
def s3_server(
    model_path: Path, aws: AwsResources, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {
        **aws.env(),
        "JOB_MAX_ATTEMPTS": "3",
        "ANALYSIS_WORKERS": "1",
        "MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "RESULT_INLINE_MAX_BYTES": str(INLINE_MAX),
    }
    running = Server(env, tmp_path_factory.mktemp("web-s3-server"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@dataclass
class Sent:
    """A request the page made: method, URL, request body size and, for
    JSON, the body."""

    method: str
    url: str
    body_bytes: int
    content_type: str
    json: Any = None


@dataclass
class Watched:
    page: Page
    sent: list[Sent] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to(self, prefix: str, method: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.url.startswith(prefix) and method in (None, s.method)]


def watch(page: Page) -> Watched:
    """Record the page's requests (with their body sizes once answered),
    answers and console errors."""
    watched = Watched(page)

    def finished(request: Request) -> None:
        content_type = request.headers.get("content-type", "")
        body = request.post_data_json if content_type.startswith("application/json") else None
        size = request.sizes()["requestBodySize"]
        watched.sent.append(Sent(request.method, request.url, size, content_type, body))

    page.on("requestfinished", finished)
    page.on("response", lambda response: watched.statuses.setdefault(response.url, response.status))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on(
        "console", lambda message: watched.errors.append(message.text) if console_error(message) else None
    )
    return watched


def test_the_page_uploads_straight_to_s3(browser: Browser, s3_server: Server, aws: AwsResources) -> None:
    page = browser.new_page()
    watched = watch(page)
    clip = video(ARM_CIRCLES)
    uploaded: dict[str, bytes] = {}

    def look_in_the_bucket(route: Route) -> None:
        """When the page submits a video_key, what the bucket holds under it
        (the job deletes it once analyzed)."""
        key = route.request.post_data_json["video_key"]
        found = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"uploads/{key}")
        uploaded[key] = found["Body"].read()
        route.continue_()

    page.route(
        lambda url: url == f"{s3_server.url}/analyses",
        lambda route: look_in_the_bucket(route) if route.request.method == "POST" else route.continue_(),
    )
    try:
        page.goto(s3_server.url + "/")
        page.set_input_files("#file", str(clip))
        deadline = time.monotonic() + 180
        while not page.is_visible("#results") and time.monotonic() < deadline:
            assert page.is_hidden("#error"), page.inner_text("#error")
            time.sleep(0.2)
        page.wait_for_selector("#results", state="visible")
        job_id = page.url.rsplit("=", 1)[1]

        # The bytes went to the bucket, in the browser's one POST there ...
        bucket = f"{aws.endpoint_url}/{aws.bucket}"
        (upload,) = watched.to(bucket, "POST")
        assert upload.content_type.startswith("multipart/form-data")
        assert watched.statuses[upload.url] == 204
        assert list(uploaded.values()) == [clip.read_bytes()]
        # ... and the API got only small requests: the grant, then the key as JSON.
        to_api = watched.to(s3_server.url, "POST")
        assert [s.url.removeprefix(s3_server.url) for s in to_api] == ["/uploads", "/analyses"]
        assert all(s.body_bytes < 1000 for s in to_api)  # (a file's bytes would count here)
        submitted = to_api[1]
        assert submitted.content_type == "application/json"
        assert [submitted.json["video_key"]] == list(uploaded)
        assert {k: v for k, v in submitted.json.items() if k != "video_key"} == {
            "include": "frames",
            "annotate": "1",
        }

        # The result was not inline: the page fetched it from S3's presigned URL.
        job = http("get", f"{s3_server.url}/analyses/{job_id}", timeout=10).json()
        assert job["status"] == "succeeded" and job["result"] is None
        result_url = job["result_url"]["url"]
        assert result_url.startswith(f"{bucket}/results/")
        (fetched,) = watched.to(f"{bucket}/results/", "GET")
        assert watched.statuses[fetched.url] == 200
        result = http("get", result_url, timeout=10).json()
        rows = page.eval_on_selector_all("#summary tbody tr", "rows => rows.map(r => r.dataset.pose)")
        assert rows == [entry["pose"] for entry in result["pose_summary"]]
        with page.expect_download() as download:
            page.click("#download")
        assert json.loads(Path(download.value.path()).read_text()) == result

        # The annotated MP4 plays from S3 (a redirect to a presigned URL).
        player = "document.getElementById('annotated-video')"
        page.wait_for_function(f"{player}.readyState >= 2", timeout=30_000)
        assert page.evaluate(f"{player}.currentSrc").startswith(f"{s3_server.url}/annotated/")
        from_s3 = [
            status for url, status in watched.statuses.items() if url.startswith(f"{bucket}/annotated/")
        ]
        assert from_s3 and set(from_s3) <= {200, 206}
        assert watched.errors == []
    finally:
        page.close()


def test_a_video_past_the_limit_is_refused_before_it_is_sent(browser: Browser, s3_server: Server) -> None:
    page = browser.new_page()
    watched = watch(page)
    try:
        page.goto(s3_server.url + "/")
        page.set_input_files("#file", str(video(TOO_LARGE)))
        page.wait_for_selector("#error", state="visible", timeout=30_000)
        assert page.inner_text("#error") == "This video is 2.2 MB; this server takes videos up to 1.0 MB."
        assert [s.url.removeprefix(s3_server.url) for s in watched.sent if s.method == "POST"] == ["/uploads"]
        assert page.is_enabled("#file") and page.is_hidden("#status")
    finally:
        page.close()


#: S3's answers to a refused POST upload (its documented XML errors).
S3_ERRORS = {
    "EntityTooLarge": (
        "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed "
        "size</Message><ProposedSize>365166</ProposedSize><MaxSizeAllowed>300000</MaxSizeAllowed></Error>",
        "The storage refused the upload: the video is larger than the 1.0 MB this server takes "
        "(EntityTooLarge).",
    ),
    "AccessDenied": (
        "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired."
        "</Message></Error>",
        "The storage refused the upload: Invalid according to Policy: Policy expired. (AccessDenied)",
    ),
}


@pytest.mark.parametrize("code", sorted(S3_ERRORS))
def test_s3_refusals_are_shown(browser: Browser, s3_server: Server, aws: AwsResources, code: str) -> None:
    """moto does not check a presigned POST's policy (size, expiry), so S3's
    refusal is stood in for at the browser's network layer with S3's own
    error body; the page shows what it means and starts no analysis."""
    body, shown = S3_ERRORS[code]
    page = browser.new_page()
    watched = watch(page)

    def refuse(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        origin = route.request.headers.get("origin", "*")
        route.fulfill(
            status=400 if code == "EntityTooLarge" else 403,
            content_type="application/xml",
            headers={"Access-Control-Allow-Origin": origin},
            body=body,
        )

    page.route(f"{aws.endpoint_url}/{aws.bucket}**", refuse)
    try:
        page.goto(s3_server.url + "/")
        page.set_input_files("#file", str(video(ARM_CIRCLES)))
        page.wait_for_selector("#error", state="visible", timeout=30_000)
        assert page.inner_text("#error") == shown
        assert "/analyses" not in [s.url.removeprefix(s3_server.url) for s in watched.sent]
        assert page.is_enabled("#file") and page.is_hidden("#results")
    finally:
        page.close()
