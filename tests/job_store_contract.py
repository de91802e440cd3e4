"""What every ``JobStore`` backend must do, as tests written once: each
backend's test module subclasses ``JobStoreContract`` and gives the ``store`` fixture
(``tests/test_job_store.py``: SQLite; ``tests/test_aws_backends.py``:
DynamoDB on moto). Behaviours only one backend has stay in its module."""

from __future__ import annotations

import time

import pytest

from jobs.backends import IdempotencyConflict, JobStore, new_job_record
from jobs.records import ComparisonSpec, Job, JobKind, JobSpec, JobStatus, Outcome, new_job_id

#: Seconds a finished job is kept in these tests.
TTL_S = 3600.0


def make(
    store: JobStore,
    spec: JobSpec | ComparisonSpec | None = None,
    owner: str | None = None,
    key: str | None = None,
) -> tuple[Job, bool]:
    """Create a queued job now: ``(job, created)`` as ``JobStore.create``."""
    job = new_job_record(new_job_id(), spec or JobSpec(), owner, time.time(), TTL_S)
    return store.create(job, key)


class JobStoreContract:
    """The shared tests. A backend's module runs them with a subclass named
    ``Test...`` and its own ``store`` fixture, so a test added here runs on
    every backend."""

    def test_create_and_get(self, store: JobStore) -> None:
        job, created = make(store, JobSpec(poses="t_pose", sample_fps=5.0), owner="o1")
        assert created
        found = store.get(job.id)
        assert found is not None and found.status == JobStatus.QUEUED
        assert found.spec == JobSpec(poses="t_pose", sample_fps=5.0) and found.owner == "o1"
        assert found.created_at == job.created_at and found.expires_at == job.expires_at
        assert store.get(new_job_id()) is None

    def test_idempotency_same_options_gives_the_first_job(self, store: JobStore) -> None:
        first, created = make(store, JobSpec(poses="t_pose"), owner="o1", key="k-1")
        other_name = JobSpec(poses="t_pose", filename="other.mp4")
        again, created_again = make(store, other_name, owner="o1", key="k-1")
        assert created and not created_again and again.id == first.id
        # Keys are scoped by owner: another owner's key is another job.
        other, created_other = make(store, JobSpec(poses="t_pose"), owner="o2", key="k-1")
        assert created_other and other.id != first.id
        with pytest.raises(IdempotencyConflict):
            make(store, JobSpec(poses="arms_up"), owner="o1", key="k-1")
        assert store.counts() == {JobStatus.QUEUED: 2}  # no third job was written

    def test_idempotency_key_is_freed_when_its_job_is_deleted(self, store: JobStore) -> None:
        first, _ = make(store, key="k")
        store.delete(first.id)
        second, created = make(store, key="k")
        assert created and second.id != first.id

    def test_one_idempotency_key_names_one_kind(self, store: JobStore) -> None:
        first, _ = make(store, ComparisonSpec(), owner="o", key="k")
        again, created = make(store, ComparisonSpec(reference_filename="other.mp4"), owner="o", key="k")
        assert not created and again.id == first.id
        with pytest.raises(IdempotencyConflict):
            make(store, JobSpec(), owner="o", key="k")
        with pytest.raises(IdempotencyConflict):
            make(store, ComparisonSpec(sample_fps=5.0), owner="o", key="k")

    def test_finish_happens_once(self, store: JobStore) -> None:
        job, _ = make(store)
        assert store.start(job.id, 1) is not None
        assert store.finish(job.id, Outcome(JobStatus.SUCCEEDED, result_key="r1"), TTL_S)
        assert not store.finish(job.id, Outcome(JobStatus.FAILED, error_code="internal"), TTL_S)
        found = store.get(job.id)
        assert found.status == JobStatus.SUCCEEDED and found.result_key == "r1" and found.error_code is None
        assert store.start(job.id, 2) is None  # a finished job never runs again
        assert not store.progress(job.id, "analyzing", 5, 10)

    def test_progress_and_cancel(self, store: JobStore) -> None:
        job, _ = make(store)
        assert not store.progress(job.id, "analyzing", 1, 10)  # not running yet
        store.start(job.id, 1)
        assert store.progress(job.id, "analyzing", 3, 10)
        found = store.get(job.id)
        assert (found.stage, found.frames_done, found.frames_total, found.attempts) == ("analyzing", 3, 10, 1)
        before = store.cancel(job.id, TTL_S)
        assert before is not None and before.status == JobStatus.RUNNING
        assert not store.progress(job.id, "analyzing", 4, 10)
        assert not store.finish(job.id, Outcome(JobStatus.SUCCEEDED, result_key="r"), TTL_S)
        assert store.get(job.id).status == JobStatus.CANCELED
        assert store.cancel(new_job_id(), TTL_S) is None

    def test_listing_is_per_owner_newest_first_and_paginated(self, store: JobStore) -> None:
        mine = [make(store, owner="me")[0] for _ in range(5)]
        make(store, owner="someone else")
        make(store)
        page = store.list_owned("me", 2, None)
        assert [job.id for job in page] == [mine[4].id, mine[3].id]
        rest = store.list_owned("me", 10, (page[-1].created_at, page[-1].id))
        assert [job.id for job in rest] == [job.id for job in reversed(mine[:3])]

    def test_a_comparison_is_stored_and_read_as_one(self, store: JobStore) -> None:
        spec = ComparisonSpec(include_frames=True, sample_fps=10.0, performance_filename="student.mp4")
        job, _ = make(store, spec, owner="me")
        found = store.get(job.id)
        assert found.kind == JobKind.COMPARISON and found.spec == spec
        analysis, _ = make(store, owner="me")
        assert analysis.kind == JobKind.ANALYSIS
        # Each kind is listed on its own.
        assert [one.id for one in store.list_owned("me", 10, None)] == [analysis.id]
        assert [one.id for one in store.list_owned("me", 10, None, JobKind.COMPARISON)] == [job.id]
        # A comparison's two videos, named from its upload key.
        found.upload_key = "k"
        assert found.upload_objects() == {"reference": "k.reference", "performance": "k.performance"}
