"""Submitting an upload as a job (``POST /analyses`` and ``POST /analyze``)
and waiting for it (``POST /analyze``).

Everything that can be refused before an analysis starts is refused here,
with the errors ``POST /analyze`` has always given: no file, a bad
parameter, an unknown pose or bad pose definition, content that is not a
video (sniffed from the first bytes), a video whose container declares it
past the limits (``video_too_large``). The upload is streamed to a private
directory in ``UPLOAD_DIR`` and moved into the job engine's upload store,
with the frame count its container declares (a header read, milliseconds)
so that progress has a total from the start.
"""

from __future__ import annotations

import contextlib
import hashlib
import time

from flask import current_app, request
from werkzeug.utils import secure_filename

from analyzer.errors import PoolBusyError, UndecodableVideoError
from analyzer.video import frames_to_analyze, probe, sniff
from api.config import Config
from api.errors import STATUS, ApiError
from api.params import parse_fields, wants_frames
from api.progress import Progress
from api.uploads import saved_upload
from jobs.analysis import analysis_options
from jobs.records import WORKER_LOST, Job, JobSpec, JobStatus
from jobs.service import JobService

#: How often ``POST /analyze`` reads its job while it waits, in s.
POLL_S = 0.1
#: HTTP status of each error code a failed job can carry.
ERROR_STATUS = {cls.code: status for cls, status in STATUS.items()} | {WORKER_LOST: 500, "internal": 500}


def jobs() -> JobService:
    """The app's job service."""
    return current_app.extensions["dancepose.jobs"]


def owner() -> str | None:
    """Who is calling: a digest of the API key (so keys are never stored),
    or ``None`` when the server has no ``API_KEYS``."""
    config: Config = current_app.config["DANCEPOSE"]
    key = request.headers.get("X-API-Key")
    if not config.api_keys or key is None:
        return None
    return hashlib.sha256(b"dancepose-owner:" + key.encode()).hexdigest()[:32]


def submit_upload(*, idempotency_key: str | None = None, callback_url: str | None = None) -> tuple[Job, bool]:
    """Validate the request, store its upload and queue its job.

    Returns:
        The job and whether it is new (``False``: ``idempotency_key`` named it).

    Raises:
        ApiError: 400 ``missing_file`` or ``bad_parameter``.
        UnknownPoseError, PoseDefinitionError: a bad ``poses`` field (400).
        NotAVideoError: the content is not a video (415).
        VideoTooLargeError: the container declares a video past the limits (413).
        IdempotencyConflict: the key names a job with other options.
    """
    upload = request.files.get("video") or request.files.get("file")
    if upload is None:
        raise ApiError(400, "missing_file", "send the video as multipart/form-data field 'video'")
    config: Config = current_app.config["DANCEPOSE"]
    fields = parse_fields(request.values)
    limits = config.video_limits
    spec = JobSpec(
        poses=fields.poses,
        include_frames=wants_frames(fields),
        annotate=fields.annotate,
        smoothing_ms=fields.smoothing_ms,
        min_segment_ms=fields.min_segment_ms,
        sample_fps=config.sample_fps if fields.sample_fps is None else fields.sample_fps,
        filename=secure_filename(upload.filename or "") or "upload",
        timeout_s=config.analysis_timeout_s,
        max_duration_s=limits.max_duration_s,
        max_frames=limits.max_frames,
        max_pixels=limits.max_pixels,
    )
    analysis_options(spec)  # an unknown pose or a bad definition fails now
    with saved_upload(upload, config.upload_dir) as path:
        sniff(path)
        with contextlib.suppress(UndecodableVideoError):  # the job fails with it, as the analysis finds it
            limits.check_declared(probe(path))
        return jobs().submit(
            path,
            spec,
            owner=owner(),
            idempotency_key=idempotency_key,
            callback_url=callback_url,
            frames_total=frames_to_analyze(path, spec.sample_fps),
        )


def wait_for(job: Job, progress: Progress, queue_wait_s: float) -> Job:
    """Wait (cooperatively under gevent) until a job is finished, copying its
    progress into ``progress`` (``GET /progress/{progress_id}``).

    Raises:
        PoolBusyError: the job was still queued after ``queue_wait_s`` (it
            is canceled): every worker stayed busy, as ``QUEUE_WAIT_S`` says.
        ApiError: 500 ``internal`` if the job vanished meanwhile.
    """
    started = time.monotonic()
    service = jobs()
    while True:
        found = service.get(job.id)
        if found is None:
            raise ApiError(500, "internal", "internal server error")
        if found.stage in ("analyzing", "rendering"):
            progress.stage = found.stage
        progress.frames_done, progress.frames_total = found.frames_done, found.frames_total
        if found.finished:
            return found
        if found.status == JobStatus.QUEUED and time.monotonic() - started > queue_wait_s:
            service.cancel(job.id)
            raise PoolBusyError("every analysis worker is busy; try again shortly")
        time.sleep(POLL_S)


def raise_failure(job: Job) -> None:
    """Raise the error a failed or canceled job carries, as ``POST /analyze``
    has always answered it (``analysis_timeout`` is a 504, ...)."""
    if job.status == JobStatus.CANCELED:
        raise ApiError(409, "canceled", "the analysis was canceled")
    code = job.error_code or "internal"
    headers = {"Retry-After": "5"} if code == PoolBusyError.code else None
    raise ApiError(ERROR_STATUS.get(code, 500), code, job.error_message or "internal server error", headers)
