"""The service on the AWS backends: real gunicorn servers (API + job
worker) whose jobs, messages and files live in moto's server on loopback,
so that two servers, each with its own temp directory as Fargate tasks
have, share one state."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, video
from tests.job_client import (
    accepted,
    accepted_comparison,
    poll,
    poll_comparison,
    post_compare,
    submit,
    submit_comparison,
)
from tests.moto_aws import AwsResources, create_resources, moto_server
from tests.openapi_check import assert_documented
from tests.test_api import (
    ARM_CIRCLES,
    ARM_RAISES,
    assert_contract,
    assert_error,
    http,
    post_video,
    wait_until,
)
from tests.test_comparisons_api import without_processing_time
from tests.test_jobs_api import kill_tree

ATTEMPTS = 3


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def aws(endpoint: str) -> AwsResources:
    return create_resources(endpoint, max_attempts=ATTEMPTS, visibility_s=30)


def env(aws: AwsResources) -> dict[str, str]:
    return {**aws.env(), "ANALYSIS_WORKERS": "1", "JOB_LEASE_S": "3", "JOB_MAX_ATTEMPTS": str(ATTEMPTS)}


def s3_keys(aws: AwsResources, prefix: str) -> list[str]:
    listing = aws.client("s3").list_objects_v2(Bucket=aws.bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


class EcsAgent(ThreadingHTTPServer):
    """Stands in for the ECS agent's task-protection endpoint on loopback:
    records each ``PUT /task-protection/v1/state`` body."""

    def __init__(self) -> None:
        self.states: list[dict] = []
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                if self.path == "/task-protection/v1/state":
                    agent.states.append(json.loads(self.rfile.read(length)))
                self.send_response(200 if self.path == "/task-protection/v1/state" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def agent() -> Iterator[EcsAgent]:
    server = EcsAgent()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def running(
    model_path: Path, aws: AwsResources, agent: EcsAgent, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = Server(
        {**env(aws), "MAX_UPLOAD_MB": "2", "ECS_AGENT_URI": agent.url}, tmp_path_factory.mktemp("aws-server")
    )
    yield server
    server.stop()


def test_a_job_runs_on_s3_sqs_and_dynamodb(running: Server, aws: AwsResources, agent: EcsAgent) -> None:
    if True:
        clip = video(ARM_CIRCLES)
        job_id = accepted(submit(running.url, clip, params={"poses": "t_pose", "annotate": "1"}))
        body = poll(running.url, job_id)
        assert body["status"] == "succeeded", body
        assert_contract(body["result"], ["t_pose"])
        assert body["result"]["total_frames"] == 53
        # Scale-in protection was held while the job ran, and let go when it
        # ended (just after the job is recorded finished).
        wait_until(lambda: len(agent.states) >= 2, 10, what="protection to be let go")
        assert agent.states == [
            {"ProtectionEnabled": True, "ExpiresInMinutes": 60},
            {"ProtectionEnabled": False},
        ]
        item = aws.client("dynamodb").get_item(TableName=aws.table, Key={"pk": {"S": f"job#{job_id}"}})
        assert item["Item"]["status"]["S"] == "succeeded"
        assert s3_keys(aws, "uploads/") == []  # dropped once the job no longer needs it
        assert [key for key in s3_keys(aws, "results/") if key.startswith(f"results/{job_id}.")]
        # The annotated video: a redirect to a presigned S3 URL.
        url = running.url + body["annotated_video"]["url"]
        redirect = http("get", url, timeout=10, allow_redirects=False)
        assert redirect.status_code == 302 and "X-Amz-Signature=" in redirect.headers["Location"]
        mp4 = http("get", url, timeout=30)
        assert mp4.status_code == 200 and mp4.content[4:8] == b"ftyp"
        assert http("get", running.url + "/annotated/" + "A" * 24 + ".mp4", timeout=10).status_code == 404
        # POST /analyze answers the same result, through a job on the same backends.
        direct = post_video(running.url, clip, params={"poses": "t_pose"})
        assert direct.status_code == 200, direct.text
        assert direct.json()["segments"] == body["result"]["segments"]
        assert not list(running.upload_dir.iterdir())


def direct_upload(
    url: str, content: bytes, content_type: str = "video/mp4", document: dict | None = None
) -> tuple[requests.Response, str]:
    """``POST /uploads``, then the file to the presigned POST; returns S3's answer and the key."""
    response = http("post", url + "/uploads", timeout=10)
    assert response.status_code == 200, response.text
    grant = response.json()
    if document is not None:
        assert_documented(document, "/uploads", "post", response)
    form = {**grant["fields"], "Content-Type": content_type}
    sent = requests.post(grant["url"], data=form, files={"file": ("clip.mp4", content)}, timeout=30)
    return sent, grant["video_key"]


def test_direct_upload_then_analysis_by_video_key(running: Server, aws: AwsResources, document: dict) -> None:
    sent, key = direct_upload(running.url, video(ARM_CIRCLES).read_bytes(), document=document)
    assert sent.status_code == 204, sent.text
    assert s3_keys(aws, "uploads/") == [f"uploads/{key}"]
    payload = {"video_key": key, "poses": "t_pose", "annotate": False, "min_segment_ms": 200}
    response = http("post", running.url + "/analyses", json=payload, timeout=10)
    assert_documented(document, "/analyses", "post", response)
    job_id = accepted(response)
    body = poll(running.url, job_id)
    assert body["status"] == "succeeded", body
    assert_contract(body["result"], ["t_pose"])
    assert body["result"]["total_frames"] == 53
    assert s3_keys(aws, "uploads/") == []
    # The same key again: its upload belongs to the first job and is gone.
    again = http("post", running.url + "/analyses", json={"video_key": key}, timeout=10)
    assert_error(again, 400, "missing_file")


def test_direct_upload_checks_content_and_size(running: Server, aws: AwsResources) -> None:
    sent, key = direct_upload(running.url, b"this is text, not a video " * 40)
    assert sent.status_code == 204, sent.text
    refused = http("post", running.url + "/analyses", data={"video_key": key}, timeout=10)
    assert_error(refused, 415, "not_a_video")
    assert s3_keys(aws, "uploads/") == []  # a refused upload is deleted
    # S3 enforces the policy's limits (moto does not): the policy says them,
    too_large, key = direct_upload(running.url, b"\x00" * (2 * 1024 * 1024 + 1))
    grant = http("post", running.url + "/uploads", timeout=10).json()
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    assert ["content-length-range", 1, 2 * 1024 * 1024] in policy["conditions"]
    assert ["starts-with", "$Content-Type", "video/"] in policy["conditions"]
    assert {"key": f"uploads/{grant['video_key']}"} in policy["conditions"]
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    assert 200 < expires - time.time() <= 300
    # and the API checks the size again before it queues a job.
    refused = http("post", running.url + "/analyses", json={"video_key": key}, timeout=10)
    assert_error(refused, 413, "request_entity_too_large")
    assert s3_keys(aws, "uploads/") == []
    malformed = http("post", running.url + "/analyses", json={"video_key": "../etc/passwd"}, timeout=10)
    assert_error(malformed, 400, "bad_parameter")


def test_no_direct_upload_without_s3() -> None:
    from server import create_app

    response = create_app().test_client().post("/uploads")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_comparison_runs_on_s3_sqs_and_dynamodb(running: Server, aws: AwsResources, document: dict) -> None:
    """A comparison job on the same AWS backends: its record (kind
    ``comparison``) in DynamoDB, its message in SQS, its two uploads and its
    result in S3; the result is what ``POST /compare`` answers."""
    clip = video(ARM_CIRCLES)
    response = submit_comparison(running.url, clip, clip)
    assert_documented(document, "/comparisons", "post", response)
    job_id = accepted_comparison(response)
    body = poll_comparison(running.url, job_id)
    assert body["status"] == "succeeded", body
    assert body["progress"]["frames_done"] == body["progress"]["frames_total"] == 106
    assert body["result"]["score"] >= 99.5
    item = aws.client("dynamodb").get_item(TableName=aws.table, Key={"pk": {"S": f"job#{job_id}"}})["Item"]
    assert item["kind"]["S"] == "comparison" and item["status"]["S"] == "succeeded"
    assert s3_keys(aws, "uploads/") == []  # both videos dropped once the job no longer needs them
    assert [key for key in s3_keys(aws, "results/") if key.startswith(f"results/{job_id}.")]
    assert_error(http("get", f"{running.url}/analyses/{job_id}", timeout=10), 404, "not_found")
    direct = post_compare(running.url, clip, clip)
    assert direct.status_code == 200, direct.text
    assert without_processing_time(direct.json()) == without_processing_time(body["result"])
    assert http("delete", f"{running.url}/comparisons/{job_id}", timeout=10).status_code == 204
    assert not [key for key in s3_keys(aws, "results/") if key.startswith(f"results/{job_id}.")]
    assert not list(running.upload_dir.iterdir())


def test_kill_9_of_the_server_running_a_job_other_one_finishes_it(
    model_path: Path, endpoint: str, tmp_path: Path
) -> None:
    # Resources of its own: the module's server must not take this job.
    aws = create_resources(endpoint, max_attempts=ATTEMPTS, visibility_s=30)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Server(env(aws), tmp_path / "a")
    second, killed = None, False
    try:
        job_id = accepted(submit(first.url, video(ARM_RAISES)))
        poll(first.url, job_id, lambda body: body["progress"]["frames_done"] > 0, timeout=90)
        second = Server(env(aws), tmp_path / "b")  # starts while the first holds the job
        kill_tree(first)
        killed = True
        body = poll(second.url, job_id, timeout=180)
        assert body["status"] == "succeeded", body
        assert body["result"]["total_frames"] == 273
        item = aws.client("dynamodb").get_item(TableName=aws.table, Key={"pk": {"S": f"job#{job_id}"}})
        assert item["Item"]["attempts"]["N"] == "2"  # run again, by the second server
        # Exactly one result: the killed run stored none.
        assert len([key for key in s3_keys(aws, "results/") if key.startswith(f"results/{job_id}.")]) == 1
        assert s3_keys(aws, "uploads/") == []
    finally:
        if not killed:
            first.stop()
        if second is not None:
            second.stop()
