"""The OpenAPI document: valid OpenAPI 3.1, complete (every route, the API
key where ``api.security`` asks for one), true to what a real gunicorn
server answers, and browsable offline at ``/docs``."""

from __future__ import annotations

import re
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Blueprint, Flask, Response, jsonify
from openapi_spec_validator import validate

from api import security
from api.openapi import responses, spec
from api.schemas import HealthResponse
from server import create_app
from tests.browser import chromium
from tests.conftest import ROOT, Server, video
from tests.openapi_check import assert_documented
from tests.test_api import ARM_CIRCLES, ARM_RAISES, Background, http, post_video, wait_until

#: Routes that serve static files (stylesheets, scripts), not API operations.
ASSET_ENDPOINTS = {"static", "web.static", "docs.swagger_ui_asset"}


@pytest.fixture(scope="module")
def app() -> Flask:
    """The app in this process (its landmark workers never start here)."""
    return create_app()


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_version_is_the_project_version(document: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert document["info"]["version"] == project["version"]


def test_every_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ASSET_ENDPOINTS:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert routes == documented
    assert {("/analyze", "post"), ("/health", "get"), ("/openapi.json", "get"), ("/docs", "get")} <= routes


def test_api_key_is_documented_where_it_is_required(document: dict[str, Any]) -> None:
    """An operation has ``security`` (and a 401) exactly when ``api.security``
    asks for a key on its path."""
    for path, operations in document["paths"].items():
        public = path in security.PUBLIC_PATHS or path.startswith(security.PUBLIC_PREFIXES)
        for method, operation in operations.items():
            assert ("security" in operation) == (not public), f"{method} {path}"
            assert ("401" in operation["responses"]) == (not public), f"{method} {path}"


def test_analyze_documents_every_field_and_error(document: dict[str, Any]) -> None:
    operation = document["paths"]["/analyze"]["post"]
    query = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "query"}
    assert query == {
        "poses",
        "include",
        "smoothing_ms",
        "min_segment_ms",
        "sample_fps",
        "annotate",
        "progress_id",
    }
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].split("/")[-1]
    fields = document["components"]["schemas"][form]["properties"]
    assert set(fields) == query | {"video", "file"}
    assert fields["video"] == {**fields["video"], "type": "string", "format": "binary"}
    for status in ("400", "413", "415", "422", "500", "503", "504"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, status


def test_readme_error_table_matches_the_document(document: dict[str, Any]) -> None:
    """Each status of the README's error table names the same codes as the
    document's operations do for it. A code is a backquoted name that opens
    a parenthesis or follows a comma in the README; in the document it opens
    a sentence or follows a comma, and is followed by ``:`` or `` (``. 405
    is the README's only: OpenAPI lists the methods a path serves, not the
    others."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("Errors are JSON") : readme.index("## Configuration")]
    in_readme = {
        status: set(re.findall(r"(?:\(|, )`([a-z_]+)`", row))
        for status, row in re.findall(r"^\| (\d{3}) \|(.*)$", table, flags=re.MULTILINE)
    }
    in_document: dict[str, set[str]] = {}
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    codes = re.findall(r"(?:^|\. |, )`([a-z_]+)`(?=:| \()", answer["description"])
                    in_document.setdefault(status, set()).update(codes)
    assert in_readme.pop("405") == {"method_not_allowed"}
    assert in_readme == in_document


def test_a_response_off_its_model_is_the_500_envelope() -> None:
    """spectree checks JSON responses against their model: a view that
    breaks its own contract answers the 500 envelope, not the bad body."""
    app = create_app()
    broken = Blueprint("broken", __name__)

    @broken.get("/broken")
    @spec.validate(resp=responses(HealthResponse))
    def broken_view() -> Response:
        return jsonify({"status": 5})

    app.register_blueprint(broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal", "message": "internal server error"}}


def test_real_responses_match_the_document(server: Server, document: dict[str, Any], tmp_path: Path) -> None:
    """Successes and errors of a real server, each against its operation."""
    url = server.url

    def check(path: str, method: str, response: requests.Response, status: int) -> None:
        assert response.status_code == status, response.text
        assert_documented(document, path, method, response)

    check("/health", "get", http("get", url + "/health", timeout=10), 200)
    check("/openapi.json", "get", http("get", url + "/openapi.json", timeout=10), 200)
    check("/", "get", http("get", url + "/", timeout=10), 200)
    check("/docs", "get", http("get", url + "/docs", timeout=10), 200)
    analyzed = post_video(url, video(ARM_CIRCLES), params={"include": "frames"})
    check("/analyze", "post", analyzed, 200)
    assert len(analyzed.json()["frames"]) == 53
    check("/analyze", "post", post_video(url, video(ARM_CIRCLES), data={"poses": "t_pose"}), 200)

    check("/analyze", "post", http("post", url + "/analyze", timeout=10), 400)
    check("/analyze", "post", post_video(url, video(ARM_CIRCLES), params={"poses": "nope"}), 400)
    check("/analyze", "post", post_video(url, video(ARM_CIRCLES), params={"smoothing_ms": "-1"}), 400)
    check("/analyze", "post", post_video(url, video(ARM_CIRCLES), params={"annotate": "maybe"}), 400)
    check("/analyze", "post", post_video(url, video(ARM_CIRCLES), params={"progress_id": "a/b"}), 400)
    check("/analyze", "post", post_video(url, content=b"plain text", filename="a.mp4"), 415)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(video(ARM_CIRCLES).read_bytes()[:4096])
    check("/analyze", "post", post_video(url, truncated), 422)
    check("/progress/{progress_id}", "get", http("get", url + "/progress/no-such-analysis", timeout=10), 404)
    missing = url + "/annotated/AAAAAAAAAAAAAAAAAAAAAAAA.mp4"
    check("/annotated/{video_id}.mp4", "get", http("get", missing, timeout=10), 404)


def test_progress_reports_a_running_analysis(server: Server, document: dict[str, Any]) -> None:
    """While an upload with a ``progress_id`` is analyzed (273 frames, a few
    seconds), ``GET /progress/{progress_id}`` counts its frames; after, it
    says ``done`` (so a poll racing the answer is not a 404)."""
    progress_id = uuid.uuid4().hex
    progress_url = f"{server.url}/progress/{progress_id}"
    analysis = Background(
        lambda: post_video(server.url, video(ARM_RAISES), params={"progress_id": progress_id})
    )
    seen: list[dict[str, Any]] = []

    def poll() -> bool:
        response = http("get", progress_url, timeout=10)
        if response.status_code == 200:
            assert_documented(document, "/progress/{progress_id}", "get", response)
            seen.append(response.json())
        return not analysis.thread.is_alive() or (len(seen) >= 2 and seen[-1]["frames_done"] > 0)

    wait_until(poll, 60, interval=0.2, what="progress of the running analysis")
    assert analysis.result().status_code == 200
    assert seen, "the analysis was never reported"
    running = [entry for entry in seen if entry["stage"] != "done"]
    assert running and all(e["stage"] == "analyzing" and e["frames_total"] == 273 for e in running)
    done = [entry["frames_done"] for entry in running]
    assert done == sorted(done) and 0 < done[-1] <= 273
    after = http("get", progress_url, timeout=10)
    assert after.status_code == 200 and after.json()["stage"] == "done", after.text
    assert_documented(document, "/progress/{progress_id}", "get", after)


def test_docs_work_offline(server: Server, document: dict[str, Any], tmp_path: Path) -> None:
    """Swagger UI at /docs loads only from this server, lists every operation
    of the document, and offers a file input to try POST /analyze."""
    foreign: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def only_local(route) -> None:
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(server.url + "/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        listed = page.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.textContent)")
        # One entry per operation: a path with GET and POST is listed twice.
        assert sorted(listed) == sorted(
            path for path, operations in document["paths"].items() for _ in operations
        )
        page.click("#operations-analysis-analyze .opblock-summary")
        page.click("#operations-analysis-analyze .try-out__btn")
        page.wait_for_selector('#operations-analysis-analyze input[type="file"]', timeout=10_000)
        page.screenshot(path=str(tmp_path / "docs.png"))
    assert foreign == []
