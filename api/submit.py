"""Submitting an upload as an analysis job (``POST /analyses`` and ``POST
/analyze``) and waiting for a job (``POST /analyze``, ``POST /compare``).

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

import hashlib
import json
import re
import tempfile
import time
from collections.abc import Mapping
from typing import Any

from flask import current_app, request
from werkzeug.utils import secure_filename

from analyzer.errors import PoolBusyError
from analyzer.video import frames_to_analyze, sniff
from api.config import Config
from api.errors import STATUS, ApiError
from api.params import parse_fields, wants_frames
from api.progress import Progress
from api.schemas import VIDEO_KEY_PATTERN, AnalyzeOptions
from api.uploads import check_upload, saved_upload
from jobs.analysis import selected_poses
from jobs.aws.s3 import S3ObjectStore
from jobs.records import WORKER_LOST, Job, JobSpec, JobStatus
from jobs.service import JobService

#: Bytes of a direct upload read to sniff its content (``analyzer.video.sniff``).
SNIFF_BYTES = 8192
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


def direct_store() -> S3ObjectStore | None:
    """The upload store if it takes direct uploads (S3), else ``None``."""
    uploads = jobs().backends.uploads
    return uploads if isinstance(uploads, S3ObjectStore) else None


def job_spec(fields: AnalyzeOptions, config: Config, filename: str) -> JobSpec:
    """The job of validated request fields, with the server's defaults and limits."""
    limits = config.video_limits
    return JobSpec(
        poses=fields.poses,
        include_frames=wants_frames(fields),
        annotate=fields.annotate,
        smoothing_ms=fields.smoothing_ms,
        min_segment_ms=fields.min_segment_ms,
        sample_fps=config.sample_fps if fields.sample_fps is None else fields.sample_fps,
        filename=secure_filename(filename) or "upload",
        timeout_s=config.analysis_timeout_s,
        max_duration_s=limits.max_duration_s,
        max_frames=limits.max_frames,
        max_pixels=limits.max_pixels,
    )


def submit_upload(*, idempotency_key: str | None = None, callback_url: str | None = None) -> tuple[Job, bool]:
    """Validate the request, store its upload and queue its job.

    Returns:
        The job and whether it is new (``False``: ``idempotency_key`` named it).

    Raises:
        ApiError: 400 ``missing_file``, or ``bad_parameter`` (also for two
            videos: in ``video`` and ``file``, or twice in one).
        UnknownPoseError, PoseDefinitionError: a bad ``poses`` field (400).
        NotAVideoError: the content is not a video (415).
        VideoTooLargeError: the container declares a video past the limits (413).
        IdempotencyConflict: the key names a job with other options.
    """
    uploads = [request.files[name] for name in ("video", "file") if name in request.files]
    if not uploads:
        raise ApiError(400, "missing_file", "send the video as multipart/form-data field 'video'")
    if len(uploads) > 1 or len(request.files.getlist(uploads[0].name)) > 1:
        raise ApiError(400, "bad_parameter", "video: send one video, as field 'video' or 'file'")
    upload = uploads[0]
    config: Config = current_app.config["DANCEPOSE"]
    fields = parse_fields(request.args, request.form, files=request.files, check=_check_poses)
    spec = job_spec(fields, config, upload.filename or "")
    with saved_upload(upload, config.upload_dir) as path:
        check_upload(path, config.video_limits)
        return jobs().submit(
            path,
            spec,
            owner=owner(),
            idempotency_key=idempotency_key,
            callback_url=callback_url,
            frames_total=frames_to_analyze(path, spec.sample_fps),
        )


def submit_stored(
    values: Mapping[str, Any], *, idempotency_key: str | None = None, callback_url: str | None = None
) -> tuple[Job, bool]:
    """Queue the job of a video sent straight to S3 (``POST /uploads``):
    ``values`` holds ``video_key`` and the options. The options, the
    object's existence and size and its first bytes are checked now; the
    rest (limits, decoding) when the job runs, failing it with the codes
    ``submit_upload`` would give. A refused upload is deleted.

    Raises:
        ApiError: 400 ``missing_file`` (no such upload) or ``bad_parameter``;
            413 ``request_entity_too_large``.
        NotAVideoError: the content is not a video (415).
        UnknownPoseError, PoseDefinitionError, IdempotencyConflict: as ``submit_upload``.
    """
    store = direct_store()
    key = str(values.get("video_key") or "")
    if store is None:
        raise ApiError(400, "bad_parameter", "video_key: this server takes no direct uploads")
    if not re.fullmatch(VIDEO_KEY_PATTERN, key):
        raise ApiError(400, "bad_parameter", "video_key: not a key of POST /uploads")
    config: Config = current_app.config["DANCEPOSE"]
    size = store.size(key)
    if size is None:
        raise ApiError(400, "missing_file", "nothing was uploaded under this video_key (or it expired)")
    try:
        if size > config.max_upload_mb * 1024 * 1024:
            raise ApiError(
                413, "request_entity_too_large", f"the upload is larger than {config.max_upload_mb} MB"
            )
        fields = parse_fields(
            {name: _form_value(value) for name, value in values.items() if value is not None},
            check=_check_poses,
        )
        spec = job_spec(fields, config, "upload")
        with tempfile.NamedTemporaryFile(prefix="dancepose-head-", dir=config.upload_dir) as head:
            head.write(store.head_bytes(key, SNIFF_BYTES))
            head.flush()
            sniff(head.name)
        return jobs().submit_stored(
            key, spec, owner=owner(), idempotency_key=idempotency_key, callback_url=callback_url
        )
    except BaseException:
        store.delete(key)
        raise


def _check_poses(options: AnalyzeOptions) -> None:
    """Refuse an unknown pose or a bad definition now, in whichever source
    it was sent (``parse_fields``' ``check``)."""
    selected_poses(options.poses)


def _form_value(value: Any) -> str:
    """A JSON value as the same field would be in a form (``true`` -> ``1``)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else json.dumps(value)


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


def wait_for_result(job: Job, progress_id: str | None) -> tuple[Job, bytes]:
    """What a synchronous endpoint (``POST /analyze``, ``POST /compare``)
    does with the job it submitted: wait for it, reporting its progress
    under ``progress_id`` (``GET /progress/{progress_id}``), then delete its
    record and result (nobody else knows its id).

    Returns:
        The finished job and its result JSON.

    Raises:
        PoolBusyError: as ``wait_for``.
        ApiError: the error the job failed with (``raise_failure``), or 500
            ``internal`` if its result vanished.
    """
    config: Config = current_app.config["DANCEPOSE"]
    with current_app.extensions["dancepose.progress"].track(progress_id, None) as progress:
        finished = wait_for(job, progress, config.queue_wait_s)
    body = jobs().result(finished)
    jobs().discard(finished)
    if finished.status != JobStatus.SUCCEEDED:
        raise_failure(finished)
    if body is None:  # deleted meanwhile
        raise ApiError(500, "internal", "internal server error")
    return finished, body


def raise_failure(job: Job) -> None:
    """Raise the error a failed or canceled job carries, as ``POST /analyze``
    has always answered it (``analysis_timeout`` is a 504, ...)."""
    if job.status == JobStatus.CANCELED:
        raise ApiError(409, "canceled", f"the {job.kind} was canceled")
    code = job.error_code or "internal"
    headers = {"Retry-After": "5"} if code == PoolBusyError.code else None
    raise ApiError(ERROR_STATUS.get(code, 500), code, job.error_message or "internal server error", headers)
