"""The AWS backends (``jobs.aws``) against moto's server on loopback,
talked to through boto3 as AWS would be (``AWS_ENDPOINT_URL``): the same
behaviours ``tests/test_job_store.py`` checks on SQLite, plus the
dead-letter queue, TTL and presigned URLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from analyzer import LandmarkPool
from jobs.annotated_store import AnnotatedStore
from jobs.aws.dynamodb import DynamoDBJobStore
from jobs.aws.s3 import S3ObjectStore
from jobs.aws.sqs import DeadLetter, SQSJobQueue
from jobs.backends import Backends, new_job_record
from jobs.records import WORKER_LOST, ComparisonSpec, JobKind, JobSpec, JobStatus, Outcome, new_job_id
from jobs.settings import JobSettings
from jobs.worker import JobWorker
from tests.job_store_contract import TTL_S, JobStoreContract, make
from tests.moto_aws import AwsResources, create_resources, moto_server

MAX_ATTEMPTS = 2


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> AwsResources:
    resources = create_resources(endpoint, max_attempts=MAX_ATTEMPTS, visibility_s=30)
    for name, value in resources.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    return resources


@pytest.fixture
def backends(aws: AwsResources) -> Backends:
    return JobSettings().backends()


@pytest.fixture
def store(backends: Backends) -> DynamoDBJobStore:
    assert isinstance(backends.store, DynamoDBJobStore)
    return backends.store


class TestJobStoreContract(JobStoreContract):
    """The shared ``JobStore`` tests, on DynamoDB on moto."""


@pytest.fixture
def queue(backends: Backends) -> SQSJobQueue:
    assert isinstance(backends.queue, SQSJobQueue)
    return backends.queue


def test_settings_refuse_a_queue_whose_redrive_disagrees(aws: AwsResources, monkeypatch) -> None:
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", str(MAX_ATTEMPTS + 1))
    with pytest.raises(ValueError, match="maxReceiveCount"):
        JobSettings().backends()
    monkeypatch.delenv("JOB_TABLE")
    with pytest.raises(ValueError, match="JOB_TABLE"):
        JobSettings().backends()


def test_idempotency_key_maps_to_one_job_under_a_race(store: DynamoDBJobStore, aws: AwsResources) -> None:
    stores = [DynamoDBJobStore(aws.table) for _ in range(6)]
    barrier, ids = threading.Barrier(6), []

    def submit(one: DynamoDBJobStore) -> None:
        barrier.wait()
        ids.append(make(one, owner="o", key="same")[0].id)

    threads = [threading.Thread(target=submit, args=(one,)) for one in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 6 and len(set(ids)) == 1
    assert store.counts() == {JobStatus.QUEUED: 1}


def test_idempotency_key_of_an_expired_job_names_a_new_one(store: DynamoDBJobStore) -> None:
    first, _ = make(store, key="k")
    store.start(first.id, 1)
    store.finish(first.id, Outcome(JobStatus.FAILED, error_code="x"), ttl_s=0.01)
    time.sleep(0.05)
    second, created = make(store, key="k")
    assert created and second.id != first.id


def _race_finish(store: DynamoDBJobStore, job_id: str, barrier: threading.Barrier, outcomes: list) -> None:
    barrier.wait()
    outcomes.append(store.finish(job_id, Outcome(JobStatus.SUCCEEDED, result_key="r"), TTL_S))


def test_two_workers_cannot_both_finish_a_job(store: DynamoDBJobStore, aws: AwsResources) -> None:
    for _ in range(3):
        job, _ = make(store)
        store.start(job.id, 1)
        barrier, outcomes = threading.Barrier(4), []
        threads = [
            threading.Thread(
                target=_race_finish, args=(DynamoDBJobStore(aws.table), job.id, barrier, outcomes)
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == [False, False, False, True]


def test_finished_jobs_expire_with_a_ttl_attribute(store: DynamoDBJobStore, aws: AwsResources) -> None:
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "ttl"
    live, _ = make(store)
    done, _ = make(store)
    store.start(done.id, 1)
    before = time.time()
    store.finish(done.id, Outcome(JobStatus.FAILED, error_code="x"), ttl_s=0.5)
    item = aws.client("dynamodb").get_item(TableName=aws.table, Key={"pk": {"S": f"job#{done.id}"}})["Item"]
    assert before < int(item["ttl"]["N"]) <= before + 2  # DynamoDB's TTL deletes it from then on
    assert (
        "ttl"
        not in aws.client("dynamodb").get_item(TableName=aws.table, Key={"pk": {"S": f"job#{live.id}"}})[
            "Item"
        ]
    )
    assert store.get(done.id) is not None
    time.sleep(0.6)
    assert store.get(done.id) is None  # hidden at once, whenever TTL deletes it
    assert [job.id for job in store.expired(time.time(), 10)] == [done.id]
    assert store.get(live.id) is not None
    store.delete(done.id)
    assert store.expired(time.time(), 10) == []


def test_an_item_from_before_kinds_is_an_analysis(store: DynamoDBJobStore, aws: AwsResources) -> None:
    """An item written before jobs had kinds (no ``kind`` attribute)."""
    analysis, _ = make(store, owner="me")
    dynamodb = aws.client("dynamodb")
    dynamodb.update_item(
        TableName=aws.table, Key={"pk": {"S": f"job#{analysis.id}"}}, UpdateExpression="REMOVE kind"
    )
    assert (
        "kind" not in dynamodb.get_item(TableName=aws.table, Key={"pk": {"S": f"job#{analysis.id}"}})["Item"]
    )
    old = store.get(analysis.id)
    assert old.kind == JobKind.ANALYSIS and old.spec == JobSpec()
    assert [one.id for one in store.list_owned("me", 10, None)] == [analysis.id]


def test_a_pending_webhook_goes_to_one_worker(store: DynamoDBJobStore, aws: AwsResources) -> None:
    job = new_job_record(new_job_id(), JobSpec(), None, time.time(), TTL_S)
    job.callback_url = "https://example.com/hook"
    store.create(job, None)
    quiet, _ = make(store)  # no callback: no webhook
    for one in (job, quiet):
        store.start(one.id, 1)
        store.finish(one.id, Outcome(JobStatus.SUCCEEDED, result_key="r"), TTL_S)
    assert store.get(job.id).webhook == "pending" and store.get(quiet.id).webhook is None
    claims = [DynamoDBJobStore(aws.table).pending_webhooks() for _ in range(3)]
    assert sorted(len(claim) for claim in claims) == [0, 0, 1]
    store.set_webhook(job.id, "delivered")
    assert store.get(job.id).webhook == "delivered"
    assert DynamoDBJobStore(aws.table, webhook_claim_s=0).pending_webhooks() == []


def test_queue_lease_receipt_and_receive_count(queue: SQSJobQueue) -> None:
    queue.send("a")
    first = queue.receive(lease_s=1)
    assert first is not None and first.job_id == "a" and first.receives == 1
    assert queue.receive(lease_s=1) is None  # hidden while leased
    assert queue.extend(first, 1)
    time.sleep(1.3)  # the lease runs out: the message is received again
    second = queue.receive(lease_s=30)
    assert second is not None and second.receives == 2 and second.receipt != first.receipt
    # (A stale receipt is not tested: SQS may accept it, so that exactly
    # once rests on the store's conditional finish, tested above.)
    assert queue.extend(second, 30)
    queue.delete(second)
    time.sleep(0.1)
    assert queue.receive(lease_s=1) is None


def test_each_message_goes_to_one_receiver(queue: SQSJobQueue, aws: AwsResources) -> None:
    sent = [f"job-{i}" for i in range(30)]
    for job_id in sent:
        queue.send(job_id)
    barrier, received = threading.Barrier(3), []

    def drain() -> None:
        mine = SQSJobQueue(aws.queue_url, wait_s=0)
        barrier.wait()
        while (lease := mine.receive(lease_s=60)) is not None and not isinstance(lease, DeadLetter):
            received.append(lease.job_id)

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(received) == sorted(sent)


def test_dead_letter_fails_its_job_with_worker_lost(
    backends: Backends, store: DynamoDBJobStore, queue: SQSJobQueue, aws: AwsResources, tmp_path: Path
) -> None:
    """A job whose worker dies every time (its lease runs out unextended)
    lands in the DLQ after maxReceiveCount receives; the next worker's
    receive gets it from there and fails the job ``worker_lost``."""
    job = new_job_record(new_job_id(), JobSpec(), None, time.time(), TTL_S)
    job.upload_key = job.id
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"not analyzed")
    backends.uploads.put_file(job.id, upload)
    store.create(job, None)
    queue.send(job.id)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        lease = queue.receive(lease_s=1)
        assert lease is not None and lease.receives == attempt and not isinstance(lease, DeadLetter)
        assert store.start(job.id, attempt) is not None
        time.sleep(1.2)  # the worker "dies": no heartbeat, no delete
    dead = None
    deadline = time.monotonic() + 15
    while dead is None and time.monotonic() < deadline:
        dead = queue.receive(lease_s=1)
    assert isinstance(dead, DeadLetter) and dead.job_id == job.id and dead.receives > MAX_ATTEMPTS
    annotated = AnnotatedStore(tmp_path / "annotated", ttl_s=60, max_files=5, max_bytes=10**6)
    worker = JobWorker(backends, JobSettings(), LandmarkPool(1), annotated)  # the pool is never started
    worker.run_job(dead)
    found = store.get(job.id)
    assert found.status == JobStatus.FAILED and found.error_code == WORKER_LOST
    assert list(backends.uploads.keys()) == []
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=aws.dlq_url, AttributeNames=["All"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # kept for inspection
    assert queue.receive(lease_s=1) is None


def test_a_comparisons_dead_letter_deletes_both_videos(
    backends: Backends, store: DynamoDBJobStore, queue: SQSJobQueue, tmp_path: Path
) -> None:
    """The worker_lost path is the same for a comparison, and drops both
    of its uploads from S3."""
    job = new_job_record(new_job_id(), ComparisonSpec(), None, time.time(), TTL_S)
    job.upload_key = job.id
    for role, key in job.upload_objects().items():
        upload = tmp_path / role
        upload.write_bytes(b"not analyzed")
        backends.uploads.put_file(key, upload)
    store.create(job, None)
    assert sorted(backends.uploads.keys()) == [f"{job.id}.performance", f"{job.id}.reference"]
    annotated = AnnotatedStore(tmp_path / "annotated", ttl_s=60, max_files=5, max_bytes=10**6)
    worker = JobWorker(backends, JobSettings(), LandmarkPool(1), annotated)  # the pool is never started
    worker.run_job(DeadLetter(job.id, "receipt", MAX_ATTEMPTS + 1))
    found = store.get(job.id)
    assert found.status == JobStatus.FAILED and found.error_code == WORKER_LOST
    assert list(backends.uploads.keys()) == []


def test_s3_object_store(backends: Backends, aws: AwsResources, tmp_path: Path) -> None:
    uploads, results = backends.uploads, backends.results
    assert isinstance(uploads, S3ObjectStore) and isinstance(results, S3ObjectStore)
    uploads.create()
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"\x00" * 1000 + b"video")
    uploads.put_file("job-1", source)
    assert not source.exists()  # moved, as the local store moves
    results.put_bytes("job-1.json", b'{"ok": true}')
    assert list(uploads.keys()) == ["job-1"] and list(results.keys()) == ["job-1.json"]
    assert results.get_bytes("job-1.json") == b'{"ok": true}' and results.get_bytes("nope") is None
    with uploads.local_copy("job-1") as path:
        assert path.read_bytes().endswith(b"video")
        copy_dir = path.parent
    assert not copy_dir.exists()
    with pytest.raises(FileNotFoundError), uploads.local_copy("nope"):
        pass
    url = results.presigned_get("job-1.json", 60)
    assert "X-Amz-Signature=" in url and requests.get(url, timeout=10).json() == {"ok": True}
    with pytest.raises(ValueError):
        uploads.put_bytes("../escape", b"")
    uploads.delete("job-1")
    uploads.delete("job-1")  # deleting twice is no error
    assert list(uploads.keys()) == []
