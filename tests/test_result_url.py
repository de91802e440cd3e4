"""Large results, on both job backends, with real gunicorn servers: a job's
result is inline in ``GET /analyses/{id}`` up to ``RESULT_INLINE_MAX_BYTES``
and always at ``result_url``. A second, API-only server (``JOB_WORKER=0``)
on the same job state with a limit of 1 000 bytes answers the same job with
``result: null``; its ``result_url`` (a presigned S3 URL on moto's server,
``GET /analyses/{id}/result`` on the embedded backend or with
``RESULTS_VIA_API=1``) gives the very bytes the first server put inline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.conftest import Server, video
from tests.job_client import accepted, poll, submit
from tests.moto_aws import create_resources, moto_server
from tests.openapi_check import assert_documented
from tests.test_api import ARM_CIRCLES, assert_error, http

#: RESULT_INLINE_MAX_BYTES of the second server: the clip's result with frames is far larger.
SMALL_LIMIT = 1000


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def shared_state(backend: str, endpoint: str, first: Path) -> dict[str, str]:
    """Settings of the first server's job state, for the second to share."""
    if backend == "aws":
        return {**create_resources(endpoint).env(), "JOB_MAX_ATTEMPTS": "3"}
    return {"JOB_DIR": str(first / "jobs"), "UPLOAD_DIR": str(first / "uploads")}


@pytest.mark.parametrize(("backend", "via_api"), [("embedded", False), ("aws", False), ("aws", True)])
def test_a_result_above_the_limit_is_fetched_from_result_url(
    backend: str, via_api: bool, model_path: Path, endpoint: str, tmp_path: Path, document: dict
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    state = shared_state(backend, endpoint, tmp_path / "a")
    worker = Server({**state, "ANALYSIS_WORKERS": "1"}, tmp_path / "a")
    api_only = None
    try:
        limits = {"JOB_WORKER": "0", "RESULT_INLINE_MAX_BYTES": str(SMALL_LIMIT)}
        api_only = Server({**state, **limits, "RESULTS_VIA_API": "1" if via_api else ""}, tmp_path / "b")
        job_id = accepted(submit(worker.url, video(ARM_CIRCLES), params={"include": "frames"}))
        inline = poll(worker.url, job_id)
        assert inline["status"] == "succeeded", inline
        assert inline["result"]["total_frames"] == 53 and len(inline["result"]["frames"]) == 53
        assert inline["result_url"] is not None  # every succeeded job has one, inline or not

        answer = http("get", f"{api_only.url}/analyses/{job_id}", timeout=10)
        assert_documented(document, "/analyses/{job_id}", "get", answer)
        linked = answer.json()
        assert linked["status"] == "succeeded" and linked["result"] is None
        url = linked["result_url"]["url"]
        if backend == "aws" and not via_api:
            assert url.startswith(state["AWS_ENDPOINT_URL"]) and "X-Amz-Signature=" in url
        else:
            assert url == f"/analyses/{job_id}/result"
        fetched = http("get", urljoin(api_only.url, url), timeout=30)
        assert fetched.status_code == 200, fetched.text
        assert len(fetched.content) > SMALL_LIMIT
        assert fetched.json() == inline["result"]
        # Through the API, on either backend, the same bytes (documented).
        streamed = http("get", f"{api_only.url}/analyses/{job_id}/result", timeout=30)
        assert_documented(document, "/analyses/{job_id}/result", "get", streamed)
        assert streamed.content == fetched.content
        missing = http("get", f"{api_only.url}/analyses/{'A' * 32}/result", timeout=10)
        assert_error(missing, 404, "not_found")
        canceled = accepted(submit(worker.url, video(ARM_CIRCLES)))
        assert http("delete", f"{worker.url}/analyses/{canceled}", timeout=10).status_code == 204
        none_yet = http("get", f"{api_only.url}/analyses/{canceled}/result", timeout=10)
        assert_documented(document, "/analyses/{job_id}/result", "get", none_yet)
        assert_error(none_yet, 409, "no_result")
        assert "canceled" in none_yet.json()["error"]["message"]
    finally:
        worker.stop()
        if api_only is not None:
            api_only.stop()
