"""The three seams of the job engine: a job store, a queue and an object
store. The API and the worker use only these interfaces; the embedded
default (``jobs.sqlite``, ``jobs.objects``) needs no server, and a second
set (S3, SQS, DynamoDB) plugs in by implementing the same methods.

The queue follows SQS's model so that SQS can implement it as is: a
received message is invisible for a lease, the receiver extends the lease
while it works (a heartbeat) and deletes the message when the job is
recorded finished; a message whose lease runs out is received again, and
each message counts its receives (SQS's ``ApproximateReceiveCount``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from jobs.records import ComparisonSpec, Job, JobKind, JobSpec, JobStatus, Outcome


class IdempotencyConflict(Exception):
    """An Idempotency-Key already names a job submitted with other options."""


@dataclass(frozen=True)
class Lease:
    """A received queue message.

    Attributes:
        job_id: the job it asks to run.
        receipt: this receive's handle; extending or deleting needs it, so a
            worker whose lease ran out can no longer touch the message.
        receives: how many times the message was received, this one included.
    """

    job_id: str
    receipt: str
    receives: int


class JobStore(Protocol):
    """Job records, their progress and the idempotency keys.

    Every status change is conditional on the current status, so two
    workers can never both finish one job.
    """

    def create(self, job: Job, idempotency_key: str | None) -> tuple[Job, bool]:
        """Store a new ``queued`` job, unless ``idempotency_key`` (scoped by
        ``job.owner``) already names a live job made in the last 24 h.

        Returns:
            The job stored and ``True``, or the earlier job and ``False``.

        Raises:
            IdempotencyConflict: the key names a job with other options.
        """

    def get(self, job_id: str) -> Job | None:
        """The job, or ``None`` if unknown, or finished and past its ``expires_at``."""

    def list_owned(
        self, owner: str, limit: int, before: tuple[float, str] | None, kind: JobKind = JobKind.ANALYSIS
    ) -> list[Job]:
        """An owner's jobs of one kind, newest first, starting after the
        ``(created_at, id)`` cursor ``before``; at most ``limit``."""

    def start(self, job_id: str, attempt: int) -> Job | None:
        """Mark a live job ``running`` for attempt ``attempt``; ``None`` if it
        is no longer live (finished, canceled, deleted)."""

    def progress(self, job_id: str, stage: str, frames_done: int, frames_total: int | None) -> bool:
        """Record a running job's progress; ``False`` if it is no longer running."""

    def finish(self, job_id: str, outcome: Outcome, ttl_s: float) -> bool:
        """Finish a live job with ``outcome``, once: ``False`` (nothing
        written) if it is not live any more. It then expires ``ttl_s`` from now."""

    def cancel(self, job_id: str, ttl_s: float) -> Job | None:
        """Cancel a live job (it expires ``ttl_s`` from now); returns the job
        as it was before, or ``None`` if it is unknown."""

    def forget_upload(self, job_id: str) -> None:
        """Record that the job's upload was deleted."""

    def set_webhook(self, job_id: str, state: str) -> None:
        """Record the webhook's state (``delivered`` or ``failed``)."""

    def pending_webhooks(self) -> list[Job]:
        """Finished jobs whose webhook is still ``pending``."""

    def delete(self, job_id: str) -> None:
        """Delete a job's record and its idempotency key."""

    def expired(self, now: float, limit: int) -> list[Job]:
        """Up to ``limit`` finished jobs whose ``expires_at`` has passed
        (the sweep then deletes their files and records)."""

    def counts(self) -> dict[JobStatus, int]:
        """Number of jobs per status."""


class JobQueue(Protocol):
    """Messages that ask a worker to run a job (see the module's docstring)."""

    def send(self, job_id: str) -> None:
        """Queue a job."""

    def receive(self, lease_s: float) -> Lease | None:
        """The oldest visible message, hidden for ``lease_s`` seconds; ``None``
        if there is none."""

    def extend(self, lease: Lease, lease_s: float) -> bool:
        """Keep a message hidden ``lease_s`` seconds more; ``False`` if the
        lease was lost (ran out and the message was received again)."""

    def delete(self, lease: Lease) -> None:
        """Remove a message for good (its job is recorded finished)."""


class ObjectStore(Protocol):
    """Files by key: uploads (a comparison's two under ``Job.upload_objects``), results."""

    def create(self) -> None:
        """Make the store ready (its directory or bucket exists)."""

    def put_file(self, key: str, source: Path) -> None:
        """Store a local file under ``key``, moving it (the source is gone after)."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes under ``key``."""

    def get_bytes(self, key: str) -> bytes | None:
        """The bytes under ``key``, or ``None``."""

    def size(self, key: str) -> int | None:
        """The size in bytes of the object under ``key``, or ``None``."""

    def open(self, key: str) -> BinaryIO | None:
        """The object under ``key`` as a readable stream (closed by the caller), or ``None``."""

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's content for the duration of the block."""

    def delete(self, key: str) -> None:
        """Delete ``key`` (nothing if absent)."""

    def keys(self) -> Iterator[str]:
        """Every key stored (for sweeps and tests)."""


@dataclass(frozen=True)
class Backends:
    """One set of backends: where jobs, messages, uploads and results live."""

    store: JobStore
    queue: JobQueue
    uploads: ObjectStore
    results: ObjectStore


def new_job_record(
    job_id: str, spec: JobSpec | ComparisonSpec, owner: str | None, now: float, ttl_s: float
) -> Job:
    """A ``queued`` job created at ``now``, expiring ``ttl_s`` after it if it
    never finishes (a finished job expires ``ttl_s`` after it finishes)."""
    return Job(
        id=job_id,
        status=JobStatus.QUEUED,
        spec=spec,
        owner=owner,
        created_at=now,
        updated_at=now,
        expires_at=now + ttl_s,
    )
