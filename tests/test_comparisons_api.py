"""Comparisons as jobs (``/comparisons``) against a real gunicorn server
(API + job worker processes), a real SQLite job database, the real model on
the shared clips and a real webhook receiver on loopback: the same engine
as analyses, the inputs and result of ``POST /compare``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, video
from tests.job_client import (
    FINAL,
    SIGNED_WEBHOOKS,
    accepted,
    accepted_comparison,
    poll_comparison,
    post_compare,
    submit,
    submit_comparison,
    verify,
)
from tests.openapi_check import assert_documented
from tests.test_api import (
    ARM_CIRCLES,
    HIPHOP,
    assert_error,
    cmdline,
    gunicorn_workers,
    http,
    is_alive,
    landmark_workers,
    proc_children,
    wait_until,
)
from tests.test_compare_cli import empty_room  # noqa: F401  (a fixture)
from tests.webhook_receiver import WebhookReceiver


def without_processing_time(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "processing_s"}


@pytest.fixture(scope="module")
def running(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two landmark workers; webhooks as ``SIGNED_WEBHOOKS``."""
    server = Server(
        {"ANALYSIS_WORKERS": "2", **SIGNED_WEBHOOKS},
        tmp_path_factory.mktemp("comparisons-server"),
    )
    yield server
    server.stop()


def test_submit_poll_result_equals_compare(running: Server, document: dict[str, Any]) -> None:
    clip = video(ARM_CIRCLES)
    with WebhookReceiver([200]) as hook:
        response = submit_comparison(
            running.url, clip, clip, params={"include": "frames"}, data={"callback_url": hook.url}
        )
        assert_documented(document, "/comparisons", "post", response)
        job_id = accepted_comparison(response)
        stages = set()

        def finished(body: dict) -> bool:
            stages.add((body["status"], body["progress"]["stage"]))
            return body["status"] in FINAL

        body = poll_comparison(running.url, job_id, finished)
        assert body["status"] == "succeeded", body
        assert ("running", "analyzing") in stages
        assert body["error"] is None and body["annotated_video"] is None
        # Progress counts the frames of both videos.
        assert body["progress"] == {"stage": "done", "frames_done": 106, "frames_total": 106}
        final = http("get", f"{running.url}/comparisons/{job_id}", timeout=10)
        assert_documented(document, "/comparisons/{job_id}", "get", final)
        call = hook.wait_for(1, 30)[0]
        assert verify(call) == {"id": job_id, "status": "succeeded", "event": "comparison.finished"}

    direct = post_compare(running.url, clip, clip, include="frames")
    assert direct.status_code == 200, direct.text
    result, expected = body["result"], direct.json()
    assert result["score"] == expected["score"] and result["score"] >= 99.5
    assert result["timing"] == expected["timing"] and result["body_parts"] == expected["body_parts"]
    assert without_processing_time(result) == without_processing_time(expected)
    assert len(result["frames"]["reference"]) == len(result["frames"]["performance"]) == 53
    assert not list(running.upload_dir.iterdir())


def test_the_api_process_never_runs_the_landmarker(running: Server) -> None:
    """``POST /compare`` waits for a job: the landmark processes are the job
    worker's, and the gunicorn worker that served it has no child."""
    clip = video(ARM_CIRCLES)
    assert post_compare(running.url, clip, clip).status_code == 200
    assert landmark_workers(running), "the job worker runs the landmarks"
    api_children = [child for worker in gunicorn_workers(running) for child in proc_children(worker)]
    assert api_children == [], [cmdline(child) for child in api_children]


def test_errors_before_the_comparison_are_those_of_compare(
    running: Server,
    document: dict[str, Any],
    empty_room: Path,  # noqa: F811
) -> None:
    clip = video(ARM_CIRCLES)
    for missing in ("reference", "performance"):
        response = submit_comparison(
            running.url, *(None if role == missing else clip for role in ("reference", "performance"))
        )
        error = assert_error(response, 400, "missing_file")
        assert f"'{missing}'" in error["message"]
        assert_documented(document, "/comparisons", "post", response)
    response = submit_comparison(running.url, clip, clip, params={"sample_fps": "-1"})
    assert "sample_fps" in assert_error(response, 400, "bad_parameter")["message"]
    response = submit_comparison(running.url, clip, clip, params={"include": "poses"})
    assert "include" in assert_error(response, 400, "bad_parameter")["message"]
    # Not a video: refused at once, naming the video, nothing stored.
    response = submit_comparison(running.url, clip, b"just some text\n" * 50)
    error = assert_error(response, 415, "not_a_video", running.upload_dir)
    assert error["message"].startswith("performance video: ")
    assert_documented(document, "/comparisons", "post", response)
    refused = submit_comparison(running.url, clip, clip, data={"callback_url": "ftp://example.com/hook"})
    assert_error(refused, 400, "bad_callback_url")
    assert not list(running.upload_dir.iterdir())
    # Too little pose: the job fails with the error POST /compare answers.
    body = poll_comparison(running.url, accepted_comparison(submit_comparison(running.url, empty_room, clip)))
    assert body["status"] == "failed" and body["result"] is None
    direct = post_compare(running.url, empty_room, clip)
    assert_error(direct, 422, "insufficient_pose")
    assert body["error"] == direct.json()["error"]
    assert "reference video (grey.mp4)" in body["error"]["message"]
    assert not list(running.upload_dir.iterdir())


def test_ids_of_one_kind_are_404_to_the_other(running: Server) -> None:
    clip = video(ARM_CIRCLES)
    comparison = accepted_comparison(submit_comparison(running.url, clip, clip))
    analysis = accepted(submit(running.url, clip, params={"poses": "t_pose"}))
    for path, job_id in (("analyses", comparison), ("comparisons", analysis)):
        assert_error(http("get", f"{running.url}/{path}/{job_id}", timeout=10), 404, "not_found")
        assert_error(http("delete", f"{running.url}/{path}/{job_id}", timeout=10), 404, "not_found")
    # A DELETE of the wrong kind touched nothing: both run to the end.
    assert poll_comparison(running.url, comparison)["status"] == "succeeded"
    found = http("get", f"{running.url}/analyses/{analysis}", timeout=10)
    assert found.status_code == 200 and found.json()["status"] in {"queued", "running", "succeeded"}
    for job_id in ("A" * 32, "short", "../../etc/passwd"):
        assert_error(http("get", f"{running.url}/comparisons/{job_id}", timeout=10), 404, "not_found")
        assert_error(http("delete", f"{running.url}/comparisons/{job_id}", timeout=10), 404, "not_found")


def test_idempotency_key(running: Server) -> None:
    clip = video(ARM_CIRCLES)
    key = {"Idempotency-Key": f"compare-{time.time_ns()}"}
    first = accepted_comparison(
        submit_comparison(running.url, clip, clip, params={"sample_fps": "5"}, headers=key)
    )
    again = submit_comparison(running.url, clip, clip, params={"sample_fps": "5"}, headers=key)
    assert accepted_comparison(again, status=200) == first
    other = submit_comparison(running.url, clip, clip, params={"sample_fps": "4"}, headers=key)
    assert_error(other, 409, "idempotency_conflict")
    # One key names one job, whatever its kind.
    assert_error(submit(running.url, clip, headers=key), 409, "idempotency_conflict")
    bad = submit_comparison(running.url, clip, clip, headers={"Idempotency-Key": "x" * 256})
    assert_error(bad, 400, "bad_parameter")
    assert poll_comparison(running.url, first)["status"] == "succeeded"
    wait_until(lambda: not any(running.upload_dir.iterdir()), 10, what="no upload left")


def test_cancel_while_running_frees_the_workers_and_deletes_the_files(running: Server) -> None:
    wait_until(lambda: len(landmark_workers(running)) == 2, 60, what="two landmark workers")
    clip = video(HIPHOP)
    job_id = accepted_comparison(submit_comparison(running.url, clip, clip))
    poll_comparison(running.url, job_id, lambda body: body["progress"]["frames_done"] > 0, timeout=90)
    busy = landmark_workers(running)
    assert len(list(running.upload_dir.iterdir())) == 2  # both videos

    response = http("delete", f"{running.url}/comparisons/{job_id}", timeout=10)
    deleted_at = time.monotonic()
    assert response.status_code == 204, response.text
    assert not list(running.upload_dir.iterdir()), "both uploads are deleted at once"
    wait_until(lambda: not any(is_alive(pid) for pid in busy), 2, what="the job's landmark workers to stop")
    assert time.monotonic() - deleted_at < 2
    body = poll_comparison(running.url, job_id)
    assert body["status"] == "canceled" and body["result"] is None
    results = running.upload_dir.parent / "jobs" / "results"
    assert not list(results.glob(f"{job_id}*"))
    # A finished comparison is deleted by DELETE: 404 after, its result gone.
    small = video(ARM_CIRCLES)
    done = accepted_comparison(submit_comparison(running.url, small, small))
    assert poll_comparison(running.url, done)["status"] == "succeeded"
    assert list(results.glob(f"{done}*"))
    assert http("delete", f"{running.url}/comparisons/{done}", timeout=10).status_code == 204
    assert_error(http("get", f"{running.url}/comparisons/{done}", timeout=10), 404, "not_found")
    assert not list(results.glob(f"{done}*"))
