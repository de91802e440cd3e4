"""The embedded job store and queue (``jobs.sqlite``) on a real SQLite file,
including from several processes at once."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import time
from pathlib import Path

import pytest

from jobs.annotated_store import AnnotatedStore
from jobs.backends import Backends
from jobs.objects import LocalObjectStore
from jobs.records import JOB_ID_PATTERN, ComparisonSpec, JobKind, JobSpec, JobStatus, Outcome, new_job_id
from jobs.service import JobService
from jobs.settings import JobSettings
from jobs.sqlite import SCHEMA, SQLiteDatabase, SQLiteJobQueue, SQLiteJobStore
from tests.job_store_contract import TTL_S, JobStoreContract, make


@pytest.fixture
def database(tmp_path: Path) -> SQLiteDatabase:
    return SQLiteDatabase(tmp_path / "jobs" / "jobs.sqlite3")


@pytest.fixture
def store(database: SQLiteDatabase) -> SQLiteJobStore:
    return SQLiteJobStore(database)


class TestJobStoreContract(JobStoreContract):
    """The shared ``JobStore`` tests, on SQLite."""


@pytest.fixture
def queue(database: SQLiteDatabase) -> SQLiteJobQueue:
    return SQLiteJobQueue(database)


def test_ids_are_random_and_long() -> None:
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(JOB_ID_PATTERN, job_id) for job_id in ids)


def test_database_is_in_wal_mode(store: SQLiteJobStore, database: SQLiteDatabase) -> None:
    make(store)
    with sqlite3.connect(database.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_finished_jobs_expire_live_ones_do_not(store: SQLiteJobStore) -> None:
    live, _ = make(store)
    done, _ = make(store)
    store.start(done.id, 1)
    store.finish(done.id, Outcome(JobStatus.FAILED, error_code="x"), ttl_s=0.01)
    time.sleep(0.02)
    assert store.get(done.id) is None
    later = time.time() + 2 * TTL_S
    assert [job.id for job in store.expired(later, 10)] == [done.id]
    assert store.get(live.id) is not None


def test_a_database_from_before_kinds_is_migrated(database: SQLiteDatabase) -> None:
    """A database whose ``jobs`` table has no ``kind`` column (as every
    database had before comparisons were jobs): its jobs read as analyses,
    and comparisons can be stored beside them."""
    old_schema = SCHEMA.replace(",\n    kind TEXT NOT NULL DEFAULT 'analysis'", "")
    assert "kind" not in old_schema
    database.path.parent.mkdir(parents=True)
    with sqlite3.connect(database.path) as old:
        old.executescript(old_schema)
        old.execute(
            "INSERT INTO jobs (id, status, spec, created_at, updated_at, expires_at, stage) "
            "VALUES (?, 'queued', ?, 1.0, 1.0, ?, 'queued')",
            ("A" * 32, JobSpec(poses="t_pose").to_json(), time.time() + TTL_S),
        )
    store = SQLiteJobStore(database)
    old_job = store.get("A" * 32)
    assert (
        old_job is not None and old_job.kind == JobKind.ANALYSIS and old_job.spec == JobSpec(poses="t_pose")
    )
    comparison, _ = make(store, ComparisonSpec())
    assert store.get(comparison.id).kind == JobKind.COMPARISON
    # Another process opening the migrated database migrates nothing twice.
    assert SQLiteJobStore(SQLiteDatabase(database.path)).get("A" * 32) == old_job


def test_the_service_stores_a_comparisons_two_videos_and_keeps_kinds_apart(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "jobs.sqlite3")
    uploads = LocalObjectStore(tmp_path / "uploads", prefix="dancepose-job-")
    uploads.create()
    backends = Backends(SQLiteJobStore(database), SQLiteJobQueue(database), uploads, uploads)
    annotated = AnnotatedStore(tmp_path / "annotated", ttl_s=60, max_files=5, max_bytes=10**6)
    service = JobService(backends, JobSettings(), annotated)
    videos = {role: tmp_path / role for role in ("reference", "performance")}
    for path in videos.values():
        path.write_bytes(b"video")
    with pytest.raises(ValueError, match="reference"):
        service.submit(tmp_path / "reference", ComparisonSpec(), owner=None)
    job, created = service.submit(videos, ComparisonSpec(), owner=None, frames_total=20)
    assert created and not any(path.exists() for path in videos.values())
    assert sorted(uploads.keys()) == [f"{job.id}.performance", f"{job.id}.reference"]
    assert backends.queue.receive(lease_s=5).job_id == job.id
    assert service.get(job.id, JobKind.ANALYSIS) is None and not service.cancel(job.id, JobKind.ANALYSIS)
    assert service.get(job.id, JobKind.COMPARISON).frames_total == 20
    assert service.cancel(job.id, JobKind.COMPARISON)
    assert list(uploads.keys()) == [] and service.get(job.id).status == JobStatus.CANCELED


def test_queue_lease_receipt_and_receive_count(queue: SQLiteJobQueue) -> None:
    queue.send("a")
    first = queue.receive(lease_s=0.2)
    assert first is not None and first.job_id == "a" and first.receives == 1
    assert queue.receive(lease_s=0.2) is None  # hidden while leased
    assert queue.extend(first, 0.2)
    time.sleep(0.3)  # the lease runs out: the message is received again
    second = queue.receive(lease_s=5)
    assert second is not None and second.receives == 2 and second.receipt != first.receipt
    assert not queue.extend(first, 5)  # the stale receipt can do nothing
    queue.delete(first)
    assert queue.receive(lease_s=5) is None  # still leased by the second receive
    queue.delete(second)
    time.sleep(0.01)
    assert queue.receive(lease_s=0) is None


def _race_finish(path: str, job_id: str, barrier, results) -> None:
    store = SQLiteJobStore(SQLiteDatabase(path))
    barrier.wait()
    results.put(store.finish(job_id, Outcome(JobStatus.SUCCEEDED, result_key="r"), TTL_S))


def test_two_processes_cannot_both_finish_a_job(store: SQLiteJobStore, database: SQLiteDatabase) -> None:
    context = multiprocessing.get_context("spawn")
    for _ in range(5):
        job, _ = make(store)
        store.start(job.id, 1)
        barrier, results = context.Barrier(4), context.Queue()
        processes = [
            context.Process(target=_race_finish, args=(str(database.path), job.id, barrier, results))
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(30)
        assert sorted(outcomes) == [False, False, False, True]


def _race_receive(path: str, barrier, results) -> None:
    queue = SQLiteJobQueue(SQLiteDatabase(path))
    barrier.wait()
    got = []
    while (lease := queue.receive(lease_s=60)) is not None:
        got.append(lease.job_id)
    results.put(got)


def test_each_message_goes_to_one_receiver(queue: SQLiteJobQueue, database: SQLiteDatabase) -> None:
    sent = [f"job-{i}" for i in range(40)]
    for job_id in sent:
        queue.send(job_id)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    processes = [
        context.Process(target=_race_receive, args=(str(database.path), barrier, results)) for _ in range(3)
    ]
    for process in processes:
        process.start()
    received = [job_id for _ in processes for job_id in results.get(timeout=60)]
    for process in processes:
        process.join(30)
    assert sorted(received) == sorted(sent)


def test_stored_uploads_are_private(tmp_path: Path) -> None:
    from jobs.objects import LocalObjectStore

    store = LocalObjectStore(tmp_path, prefix="dancepose-job-")
    source = tmp_path / "incoming"
    source.write_bytes(b"video bytes")
    source.chmod(0o644)
    store.put_file("abc", source)
    assert not source.exists()
    assert (tmp_path / "dancepose-job-abc").stat().st_mode & 0o777 == 0o600
    assert store.get_bytes("abc") == b"video bytes" and list(store.keys()) == ["abc"]
    store.delete("abc")
    assert list(store.keys()) == []
