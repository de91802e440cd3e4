"""What the API asks of the job engine: submit, read, list and cancel
jobs of every kind. It never runs an analysis or a comparison (that is
``jobs.worker``'s)."""

from __future__ import annotations

import base64
import binascii
import time
from pathlib import Path

from jobs.annotated_store import AnnotatedStore
from jobs.backends import Backends, new_job_record
from jobs.records import ComparisonSpec, Job, JobKind, JobSpec, new_job_id
from jobs.settings import JobSettings
from jobs.worker import delete_job_files


class BadCursor(ValueError):
    """A listing cursor that this service did not make."""


def encode_cursor(job: Job) -> str:
    """The cursor that lists the jobs after ``job``."""
    return base64.urlsafe_b64encode(f"{job.created_at!r}:{job.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    """``(created_at, id)`` of a cursor.

    Raises:
        BadCursor: not a cursor of ``encode_cursor``.
    """
    try:
        created, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        return float(created), job_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadCursor("cursor is not one this service gave") from None


class JobService:
    """The job engine as the API sees it.

    Args:
        backends: where jobs, messages and files live.
        settings: the job engine's settings.
        annotated: the annotated videos.
    """

    def __init__(self, backends: Backends, settings: JobSettings, annotated: AnnotatedStore) -> None:
        self.backends, self.settings, self.annotated = backends, settings, annotated

    def submit(
        self,
        upload: Path | dict[str, Path],
        spec: JobSpec | ComparisonSpec,
        *,
        owner: str | None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        frames_total: int | None = None,
    ) -> tuple[Job, bool]:
        """Store a job's upload(s) (moved from where they are) and queue it.

        Args:
            upload: an analysis's video; or a comparison's videos by role
                (``reference``, ``performance``), as ``Job.upload_objects`` names them.
            spec: what to do; its class is the job's kind.
            owner, idempotency_key, callback_url: see ``JobStore.create``.
            frames_total: the frames the work is expected to run on, if
                known (the worker reads it from the videos otherwise).

        Returns:
            The job and ``True``; or, when ``idempotency_key`` names a job
            already, that job and ``False`` (the uploads are dropped).

        Raises:
            IdempotencyConflict: the key names a job with other options.
            ValueError: ``upload`` does not hold the videos the kind needs.
        """
        job = new_job_record(new_job_id(), spec, owner, time.time(), self.settings.ttl_s)
        job.upload_key, job.callback_url, job.frames_total = job.id, callback_url, frames_total
        sources = upload if isinstance(upload, dict) else {"video": upload}
        objects = job.upload_objects()
        if set(sources) != set(objects):
            raise ValueError(f"a {job.kind} job takes the videos {sorted(objects)}, not {sorted(sources)}")
        uploads = self.backends.uploads
        try:
            for role, key in objects.items():
                uploads.put_file(key, sources[role])
            stored, created = self.backends.store.create(job, idempotency_key)
            if created:
                self.backends.queue.send(job.id)
        except BaseException:
            for key in objects.values():
                uploads.delete(key)
            self.backends.store.delete(job.id)
            raise
        if not created:
            for key in objects.values():
                uploads.delete(key)
        return stored, created

    def submit_stored(
        self,
        upload_key: str,
        spec: JobSpec,
        *,
        owner: str | None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> tuple[Job, bool]:
        """Queue the job of an upload already in the upload store (a direct
        upload to S3, ``POST /uploads``); the job owns it from now on.

        Returns and raises as ``submit`` (a duplicate's upload is deleted).
        """
        job = new_job_record(new_job_id(), spec, owner, time.time(), self.settings.ttl_s)
        job.upload_key, job.callback_url = upload_key, callback_url
        try:
            stored, created = self.backends.store.create(job, idempotency_key)
            if created:
                self.backends.queue.send(job.id)
        except BaseException:
            self.backends.uploads.delete(upload_key)
            self.backends.store.delete(job.id)
            raise
        if not created:
            self.backends.uploads.delete(upload_key)
        return stored, created

    def get(self, job_id: str, kind: JobKind | None = None) -> Job | None:
        """The job, or ``None`` if unknown, expired, or not of ``kind``
        (``None``: any): an analysis's id reads no comparison, and back."""
        job = self.backends.store.get(job_id)
        return None if job is None or (kind is not None and job.kind != kind) else job

    def result(self, job: Job) -> bytes | None:
        """A succeeded job's result JSON, as stored."""
        return None if job.result_key is None else self.backends.results.get_bytes(job.result_key)

    def result_size(self, job: Job) -> int | None:
        """Bytes of a succeeded job's stored result JSON (``None``: no result)."""
        return None if job.result_key is None else self.backends.results.size(job.result_key)

    def list_owned(
        self, owner: str, limit: int, cursor: str | None, kind: JobKind = JobKind.ANALYSIS
    ) -> tuple[list[Job], str | None]:
        """An owner's jobs of one kind, newest first, and the cursor of the
        next page (``None`` on the last).

        Raises:
            BadCursor: ``cursor`` is not one of ``encode_cursor``.
        """
        before = None if cursor is None else decode_cursor(cursor)
        found = self.backends.store.list_owned(owner, limit + 1, before, kind)
        page = found[:limit]
        return page, encode_cursor(page[-1]) if len(found) > limit else None

    def discard(self, job: Job) -> None:
        """Delete a finished job's record and result, keeping its annotated
        video (whose URL was handed out; it expires by itself): for
        ``POST /analyze``, whose client never learns the job's id."""
        if job.result_key is not None:
            self.backends.results.delete(job.result_key)
        self.backends.store.delete(job.id)

    def cancel(self, job_id: str, kind: JobKind | None = None) -> bool:
        """Cancel a live job (its worker stops within a second) or delete a
        finished one; either way its uploads, result and annotated video are
        deleted now. A canceled job stays readable (``canceled``) until it
        expires; a finished one is gone.

        Returns:
            ``False`` if the job is unknown, expired, or not of ``kind``
            (``None``: any).
        """
        if kind is not None and self.get(job_id, kind) is None:
            return False
        before = self.backends.store.cancel(job_id, self.settings.ttl_s)
        if before is None:
            return False
        delete_job_files(self.backends, self.annotated, before)
        if before.finished:
            self.backends.store.delete(job_id)
        else:
            self.backends.store.forget_upload(job_id)
        return True
