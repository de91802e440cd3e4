"""The service on the AWS backends: real gunicorn servers (API + job
worker) whose jobs, messages and files live in moto's server on loopback,
so that two servers, each with its own temp directory as Fargate tasks
have, share one state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, video
from tests.moto_aws import AwsResources, create_resources, moto_server
from tests.test_api import ARM_CIRCLES, ARM_RAISES, assert_contract, http, post_video
from tests.test_jobs_api import accepted, kill_tree, poll, submit

ATTEMPTS = 3


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsResources]:
    with moto_server() as endpoint:
        yield create_resources(endpoint, max_attempts=ATTEMPTS, visibility_s=30)


def env(aws: AwsResources) -> dict[str, str]:
    return {**aws.env(), "ANALYSIS_WORKERS": "1", "JOB_LEASE_S": "3", "JOB_MAX_ATTEMPTS": str(ATTEMPTS)}


def s3_keys(aws: AwsResources, prefix: str) -> list[str]:
    listing = aws.client("s3").list_objects_v2(Bucket=aws.bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_a_job_runs_on_s3_sqs_and_dynamodb(model_path: Path, aws: AwsResources, tmp_path: Path) -> None:
    running = Server(env(aws), tmp_path)
    try:
        clip = video(ARM_CIRCLES)
        job_id = accepted(submit(running.url, clip, params={"poses": "t_pose", "annotate": "1"}))
        body = poll(running.url, job_id)
        assert body["status"] == "succeeded", body
        assert_contract(body["result"], ["t_pose"])
        assert body["result"]["total_frames"] == 53
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
    finally:
        running.stop()


def test_kill_9_of_the_server_running_a_job_other_one_finishes_it(
    model_path: Path, aws: AwsResources, tmp_path: Path
) -> None:
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
