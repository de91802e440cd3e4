"""The asynchronous API against real gunicorn servers (API + job worker
processes), a real SQLite job database and a real webhook receiver on
loopback: submit, poll, idempotency, cancel, webhooks, listing, expiry,
concurrent submissions, and kill -9 of the whole server mid-job."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, video
from tests.job_client import FINAL, SECRET, SIGNED_WEBHOOKS, accepted, poll, submit, verify
from tests.openapi_check import assert_documented
from tests.test_api import (
    ARM_CIRCLES,
    ARM_RAISES,
    HIPHOP,
    assert_contract,
    assert_error,
    http,
    is_alive,
    job_workers,
    landmark_workers,
    post_video,
    proc_children,
    wait_until,
    write_clip,
)
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("job-clips")
    write_clip(video(ARM_CIRCLES), directory / "tiny.mp4", frames=5)
    write_clip(video(ARM_CIRCLES), directory / "short.mp4", frames=20)
    return directory


@pytest.fixture(scope="module")
def hooks_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two landmark workers; webhooks as ``SIGNED_WEBHOOKS``."""
    running = Server(
        {"ANALYSIS_WORKERS": "2", **SIGNED_WEBHOOKS},
        tmp_path_factory.mktemp("hooks-server"),
    )
    yield running
    running.stop()


def job_dir(running: Server) -> Path:
    return running.upload_dir.parent / "jobs"


# ---------------------------------------------------------------- submit, poll, result


def test_submit_poll_result_equals_analyze(hooks_server: Server, document: dict[str, Any]) -> None:
    clip = video(ARM_RAISES)
    response = submit(hooks_server.url, clip, params={"poses": "arms_up,standing,t_pose"})
    assert_documented(document, "/analyses", "post", response)
    job_id = accepted(response)
    stages = set()

    def finished(body: dict) -> bool:
        stages.add((body["status"], body["progress"]["stage"]))
        return body["status"] in FINAL

    body = poll(hooks_server.url, job_id, finished)
    assert body["status"] == "succeeded", body
    assert ("running", "analyzing") in stages
    assert body["error"] is None and body["annotated_video"] is None
    assert body["progress"] == {"stage": "done", "frames_done": 273, "frames_total": 273}
    final = http("get", f"{hooks_server.url}/analyses/{job_id}", timeout=10)
    assert_documented(document, "/analyses/{job_id}", "get", final)
    result = body["result"]
    assert_contract(result, ["arms_up", "standing", "t_pose"])

    direct = post_video(hooks_server.url, clip, params={"poses": "arms_up,standing,t_pose"})
    assert direct.status_code == 200, direct.text
    expected = direct.json()
    assert result["detected_poses"] == expected["detected_poses"]
    assert result["segments"] == expected["segments"]
    assert {k: v for k, v in result.items() if k != "processing_s"} == {
        k: v for k, v in expected.items() if k != "processing_s"
    }
    assert not list(hooks_server.upload_dir.iterdir())


def test_errors_before_the_analysis_are_those_of_analyze(hooks_server: Server, clips: Path) -> None:
    url = hooks_server.url + "/analyses"
    assert_error(http("post", url, data={"poses": "t_pose"}, timeout=10), 400, "missing_file")
    assert_error(submit(hooks_server.url, clips / "tiny.mp4", params={"poses": "nope"}), 400, "unknown_pose")
    assert_error(
        submit(hooks_server.url, clips / "tiny.mp4", params={"sample_fps": "-1"}), 400, "bad_parameter"
    )
    text = clips / "text.mp4"
    text.write_bytes(b"not a video at all")
    assert_error(submit(hooks_server.url, text), 415, "not_a_video")
    # A video that fails in the worker fails the job with the code /analyze answers.
    zeroed = clips / "zeroed.mp4"
    data = bytearray(video(ARM_CIRCLES).read_bytes())
    data[len(data) // 3 :] = bytes(len(data) - len(data) // 3)
    zeroed.write_bytes(bytes(data))
    body = poll(hooks_server.url, accepted(submit(hooks_server.url, zeroed)))
    direct = post_video(hooks_server.url, zeroed)
    assert body["status"] == "failed" and body["result"] is None
    assert body["error"] == direct.json()["error"]
    assert not list(hooks_server.upload_dir.iterdir())


def test_unknown_ids_are_404(hooks_server: Server) -> None:
    for job_id in ("A" * 32, "short", "../../etc/passwd"):
        assert_error(http("get", f"{hooks_server.url}/analyses/{job_id}", timeout=10), 404, "not_found")
        assert_error(http("delete", f"{hooks_server.url}/analyses/{job_id}", timeout=10), 404, "not_found")


# ---------------------------------------------------------------- idempotency


def test_idempotency_key(hooks_server: Server, clips: Path) -> None:
    key = {"Idempotency-Key": f"order-{time.time_ns()}"}
    first = accepted(submit(hooks_server.url, clips / "tiny.mp4", params={"poses": "t_pose"}, headers=key))
    again = submit(hooks_server.url, clips / "tiny.mp4", params={"poses": "t_pose"}, headers=key)
    assert accepted(again, status=200) == first
    conflict = submit(hooks_server.url, clips / "tiny.mp4", params={"poses": "arms_up"}, headers=key)
    assert_error(conflict, 409, "idempotency_conflict")
    bad = submit(hooks_server.url, clips / "tiny.mp4", headers={"Idempotency-Key": "x" * 256})
    assert_error(bad, 400, "bad_parameter")
    assert poll(hooks_server.url, first)["status"] == "succeeded"
    # Once finished, the key still names the same job.
    assert (
        accepted(submit(hooks_server.url, clips / "tiny.mp4", params={"poses": "t_pose"}, headers=key), 200)
        == first
    )
    wait_until(lambda: not any(hooks_server.upload_dir.iterdir()), 10, what="no upload left")


# ---------------------------------------------------------------- cancel


def test_cancel_while_running_frees_the_workers_and_deletes_the_files(
    hooks_server: Server, clips: Path
) -> None:
    wait_until(lambda: len(landmark_workers(hooks_server)) == 2, 60, what="two landmark workers")
    job_id = accepted(submit(hooks_server.url, video(HIPHOP), params={"annotate": "1"}))
    poll(hooks_server.url, job_id, lambda body: body["progress"]["frames_done"] > 0, timeout=60)
    busy = landmark_workers(hooks_server)
    assert len(list(hooks_server.upload_dir.iterdir())) == 1

    response = http("delete", f"{hooks_server.url}/analyses/{job_id}", timeout=10)
    deleted_at = time.monotonic()
    assert response.status_code == 204, response.text
    assert not list(hooks_server.upload_dir.iterdir()), "the upload is deleted at once"
    wait_until(lambda: not any(is_alive(pid) for pid in busy), 2, what="the job's landmark workers to stop")
    stopped_in = time.monotonic() - deleted_at
    assert stopped_in < 2
    body = poll(hooks_server.url, job_id)
    assert body["status"] == "canceled" and body["result"] is None and body["annotated_video"] is None
    assert not list((job_dir(hooks_server) / "results").glob(f"{job_id}*"))

    # The freed slots run the next job on fresh landmark workers.
    after = accepted(submit(hooks_server.url, clips / "tiny.mp4"))
    assert poll(hooks_server.url, after)["status"] == "succeeded"
    assert not set(landmark_workers(hooks_server)) & set(busy)
    # Deleting a finished job deletes it: 404 after, its result file gone.
    assert http("delete", f"{hooks_server.url}/analyses/{after}", timeout=10).status_code == 204
    assert_error(http("get", f"{hooks_server.url}/analyses/{after}", timeout=10), 404, "not_found")
    assert not list((job_dir(hooks_server) / "results").glob(f"{after}*"))


# ---------------------------------------------------------------- webhooks


def test_webhook_signed_and_retried_after_500(hooks_server: Server, clips: Path) -> None:
    with WebhookReceiver([500, 200]) as hook:
        job_id = accepted(submit(hooks_server.url, clips / "tiny.mp4", data={"callback_url": hook.url}))
        calls = hook.wait_for(2, 60)
        assert len(calls) == 2, calls
        for call in calls:
            assert verify(call) == {"id": job_id, "status": "succeeded", "event": "analysis.finished"}
        time.sleep(1)
        assert len(hook.received) == 2, "delivered: no more calls"


def test_webhook_not_retried_after_400(hooks_server: Server, clips: Path) -> None:
    with WebhookReceiver([400, 200]) as hook:
        job_id = accepted(submit(hooks_server.url, clips / "tiny.mp4", data={"callback_url": hook.url}))
        assert poll(hooks_server.url, job_id)["status"] == "succeeded"
        calls = hook.wait_for(1, 30)
        time.sleep(2)  # well past the 0.2 s backoff of a retry
        assert len(hook.received) == 1
        assert verify(calls[0])["id"] == job_id


def test_listing_is_403_without_api_keys(hooks_server: Server) -> None:
    assert_error(http("get", hooks_server.url + "/analyses", timeout=10), 403, "forbidden")


# ---------------------------------------------------------------- 8 at once


def test_eight_concurrent_submissions(hooks_server: Server, clips: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: submit(hooks_server.url, clips / "short.mp4"), range(8)))
    ids = [accepted(response) for response in responses]
    assert len(set(ids)) == 8
    bodies = [poll(hooks_server.url, job_id) for job_id in ids]
    assert [body["status"] for body in bodies] == ["succeeded"] * 8
    assert all(body["result"]["processed_frames"] == 20 for body in bodies)
    # Nothing left that no job owns: no upload, and one result file per
    # stored job (this module's earlier jobs included).
    assert not list(hooks_server.upload_dir.iterdir())
    with sqlite3.connect(job_dir(hooks_server) / "jobs.sqlite3") as db:
        owned = {row[0] for row in db.execute("SELECT result_key FROM jobs WHERE result_key IS NOT NULL")}
        uploads = [row[0] for row in db.execute("SELECT upload_key FROM jobs WHERE upload_key IS NOT NULL")]
    assert {path.name for path in (job_dir(hooks_server) / "results").iterdir()} == owned
    assert uploads == []


# ---------------------------------------------------------------- API keys: listing, callbacks, expiry


@pytest.fixture(scope="module")
def keys_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """API keys, a webhook secret with the default (strict) callback rules,
    jobs that expire 4 s after they end."""
    tmp = tmp_path_factory.mktemp("keys-server")
    running = Server(
        {
            "ANALYSIS_WORKERS": "1",
            "API_KEYS": "key-a,key-b",
            "WEBHOOK_SECRET": SECRET,
            "JOB_TTL_S": "4",
            "ANNOTATED_DIR": str(tmp / "annotated"),
        },
        tmp,
    )
    yield running
    running.stop()


KEY_A, KEY_B = {"X-API-Key": "key-a"}, {"X-API-Key": "key-b"}


@pytest.mark.parametrize(
    "callback",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
    ],
)
def test_private_or_plain_http_callbacks_are_refused(keys_server: Server, clips: Path, callback: str) -> None:
    response = http(
        "post",
        keys_server.url + "/analyses",
        files={"video": ("tiny.mp4", (clips / "tiny.mp4").read_bytes())},
        data={"callback_url": callback},
        headers=KEY_A,
        timeout=30,
    )
    assert_error(response, 400, "bad_callback_url")
    assert not list(keys_server.upload_dir.iterdir())


def test_listing_shows_only_the_callers_jobs(keys_server: Server, clips: Path) -> None:
    def post(headers: dict[str, str]) -> str:
        response = http(
            "post",
            keys_server.url + "/analyses",
            files={"video": ("tiny.mp4", (clips / "tiny.mp4").read_bytes())},
            headers=headers,
            timeout=30,
        )
        return accepted(response)

    assert_error(http("get", keys_server.url + "/analyses", timeout=10), 401, "unauthorized")
    mine = [post(KEY_A) for _ in range(3)]
    theirs = post(KEY_B)
    first = http(
        "get", keys_server.url + "/analyses", params={"limit": "2"}, headers=KEY_A, timeout=10
    ).json()
    assert [item["id"] for item in first["analyses"]] == [mine[2], mine[1]]
    assert first["next_cursor"]
    second = http(
        "get",
        keys_server.url + "/analyses",
        params={"cursor": first["next_cursor"]},
        headers=KEY_A,
        timeout=10,
    ).json()
    assert [item["id"] for item in second["analyses"]] == [mine[0]] and second["next_cursor"] is None
    other = http("get", keys_server.url + "/analyses", headers=KEY_B, timeout=10).json()
    assert [item["id"] for item in other["analyses"]] == [theirs]
    bad = http("get", keys_server.url + "/analyses", params={"cursor": "nope"}, headers=KEY_A, timeout=10)
    assert_error(bad, 400, "bad_parameter")
    for job_id in [*mine, theirs]:
        poll(keys_server.url, job_id, headers=KEY_A)


def test_expired_jobs_are_404_and_their_files_gone(keys_server: Server, clips: Path) -> None:
    response = http(
        "post",
        keys_server.url + "/analyses",
        files={"video": ("tiny.mp4", (clips / "tiny.mp4").read_bytes())},
        params={"annotate": "1"},
        headers=KEY_A,
        timeout=30,
    )
    job_id = accepted(response)
    body = poll(keys_server.url, job_id, headers=KEY_A)
    assert body["status"] == "succeeded" and body["annotated_video"] is not None
    results = job_dir(keys_server) / "results"
    annotated = keys_server.upload_dir.parent / "annotated"
    assert list(results.glob(f"{job_id}*")) and list(annotated.glob("*.mp4"))
    wait_until(
        lambda: (
            http("get", f"{keys_server.url}/analyses/{job_id}", headers=KEY_A, timeout=10).status_code == 404
        ),
        10,
        what="the job to expire",
    )
    wait_until(lambda: not list(results.glob(f"{job_id}*")), 3, what="the result file to go")
    assert not list(annotated.glob("*.mp4"))
    assert not list(keys_server.upload_dir.iterdir())


# ---------------------------------------------------------------- kill -9 of the whole server


def kill_tree(running: Server) -> None:
    """SIGKILL the master, its gunicorn worker, its job worker and the
    landmark workers at once, as a crashed machine would stop them."""
    pids = [running.process.pid, *proc_children(running.process.pid)]
    pids += [child for worker in job_workers(running) for child in proc_children(worker)]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    running.process.wait()
    wait_until(lambda: not any(is_alive(pid) for pid in pids), 10, what="every process to die")
    running.stop()


def restart(first: Server, tmp: Path, env: dict[str, str]) -> Server:
    """A new server on the state (uploads, jobs) of ``first``."""
    tmp.mkdir()
    return Server({**env, "UPLOAD_DIR": str(first.upload_dir), "JOB_DIR": str(job_dir(first))}, tmp)


def killed_mid_job(env: dict[str, str], tmp: Path) -> tuple[Server, str]:
    tmp.mkdir()
    running = Server(env, tmp)
    try:
        wait_until(lambda: len(landmark_workers(running)) == 1, 60, what="the landmark worker")
        job_id = accepted(submit(running.url, video(ARM_RAISES)))
        poll(running.url, job_id, lambda body: body["progress"]["frames_done"] > 0, timeout=60)
    except BaseException:
        running.stop()
        raise
    kill_tree(running)
    return running, job_id


def test_kill_9_mid_job_then_restart_runs_it_again(model_path: Path, tmp_path: Path) -> None:
    env = {"ANALYSIS_WORKERS": "1", "JOB_LEASE_S": "3"}
    first, job_id = killed_mid_job(env, tmp_path / "first")
    second = restart(first, tmp_path / "second", env)
    try:
        body = poll(second.url, job_id)
        assert body["status"] == "succeeded", body
        assert body["result"]["total_frames"] == 273
        assert not list(first.upload_dir.iterdir())
    finally:
        second.stop()


def test_kill_9_past_the_attempts_is_worker_lost(model_path: Path, tmp_path: Path) -> None:
    env = {"ANALYSIS_WORKERS": "1", "JOB_LEASE_S": "3", "JOB_MAX_ATTEMPTS": "1"}
    first, job_id = killed_mid_job(env, tmp_path / "first")
    second = restart(first, tmp_path / "second", env)
    try:
        body = poll(second.url, job_id)
        assert body["status"] == "failed" and body["error"]["code"] == "worker_lost", body
        assert not list(first.upload_dir.iterdir())
    finally:
        second.stop()
