"""The asynchronous API: ``POST /analyses`` starts a job, ``GET
/analyses/{id}`` reads it, ``DELETE /analyses/{id}`` cancels or deletes it,
``GET /analyses`` lists the caller's jobs. The job engine is ``jobs``.

A job's result is stored as the exact JSON ``POST /analyze`` answers and
is put into the job's JSON as bytes, never parsed here: a result with
``frames`` can be megabytes, and this process serves every request on one
gevent loop.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from api.annotated import annotated_url
from api.config import Config
from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, amend, responses, spec
from api.params import parse_fields
from api.results import result_fields, result_stream
from api.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    VIDEO_MEDIA_TYPE,
    AnalysisAccepted,
    AnalysisJob,
    AnalysisList,
    AnalysisResponse,
    ListQuery,
    SubmitForm,
    SubmitHeaders,
    SubmitOptions,
    SubmitStored,
)
from api.submit import jobs, owner, submit_stored, submit_upload
from jobs.backends import IdempotencyConflict
from jobs.records import JOB_ID_PATTERN, Job, JobKind
from jobs.service import BadCursor
from jobs.webhooks import CallbackRefused, check_callback_url

bp = Blueprint("analyses", __name__)

_JOB_ID = re.compile(JOB_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
NOT_FOUND = "`not_found`: no job under this id (never made, deleted, or expired after `JOB_TTL_S`)."


def rfc3339(unix_s: float) -> str:
    """A Unix time as RFC 3339 in UTC with milliseconds: ``2026-12-05T16:20:00.000Z``."""
    return datetime.fromtimestamp(unix_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(value: Any) -> bytes:
    """Compact JSON, as Flask's ``jsonify`` writes it."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()


#: The endpoint that reads each kind of job.
STATUS_ENDPOINTS = {
    JobKind.ANALYSIS: "analyses.get_analysis",
    JobKind.COMPARISON: "comparisons.get_comparison",
}


def status_url(job: Job) -> str:
    """Path of ``GET /analyses/{id}`` or ``GET /comparisons/{id}``, as the job's kind."""
    return url_for(STATUS_ENDPOINTS[job.kind], job_id=job.id)


def job_json(job: Job, result: bytes | None, result_url: tuple[str, float] | None = None) -> bytes:
    """The body of ``GET /analyses/{id}`` (and ``GET /comparisons/{id}``),
    with ``result`` (stored JSON) put in as is, and ``result_url`` (``(url,
    expires at)``, see ``api.results``)."""
    head = {
        "id": job.id,
        "status": str(job.status),
        "progress": {"stage": job.stage, "frames_done": job.frames_done, "frames_total": job.frames_total},
        "created_at": rfc3339(job.created_at),
        "updated_at": rfc3339(job.updated_at),
        "expires_at": rfc3339(job.expires_at),
        "error": None if job.error_code is None else {"code": job.error_code, "message": job.error_message},
    }
    annotated = None
    if job.annotated_id is not None and job.annotated_expires_at is not None:
        annotated = {"url": annotated_url(job.annotated_id), "expires_at": rfc3339(job.annotated_expires_at)}
    link = None if result_url is None else {"url": result_url[0], "expires_at": rfc3339(result_url[1])}
    tail = {"result_url": link, "annotated_video": annotated}
    return b"".join(
        (_json(head)[:-1], b',"result":', (result or b"null").strip(), b",", _json(tail)[1:], b"\n")
    )


def not_found(kind: JobKind) -> ApiError:
    """The 404 of an id that names no job of ``kind``."""
    return ApiError(404, "not_found", f"no {kind} job under this id (unknown, deleted or expired)")


def found(job_id: str, kind: JobKind) -> Job:
    """The job of ``kind`` under ``job_id``.

    Raises:
        ApiError: 404 ``not_found``: not an id, unknown, expired, or a job of another kind.
    """
    job = jobs().get(job_id, kind) if _JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise not_found(kind)
    return job


def cancel(job_id: str, kind: JobKind) -> Response:
    """``DELETE`` of a job of ``kind``: 204, or 404 ``not_found``."""
    if not _JOB_ID.fullmatch(job_id) or not jobs().cancel(job_id, kind):
        raise not_found(kind)
    return Response(status=204)


def accepted(job: Job, status: int) -> Response:
    """The answer to a submission: ``{"id", "status", "status_url"}`` and ``Location``."""
    body = {"id": job.id, "status": str(job.status), "status_url": status_url(job)}
    response = Response(_json(body) + b"\n", status=status, mimetype="application/json")
    response.headers["Location"] = status_url(job)
    return response


def _stored_upload() -> dict[str, Any] | None:
    """The fields of a request naming a direct upload (a JSON body, or a
    form with ``video_key`` and no file), query parameters included; ``None``
    for a request carrying its video.

    Raises:
        ApiError: 400 ``bad_parameter`` for a JSON body that is not an object.
    """
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_parameter", "the JSON body must be an object with video_key")
        return {**request.args.to_dict(), **body}
    if "video_key" in request.form and not request.files:
        return request.values.to_dict()
    return None


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header.

    Raises:
        ApiError: 400 ``bad_parameter``: not 1-255 printable ASCII characters.
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "bad_parameter", "Idempotency-Key must be 1-255 printable ASCII characters")
    return key


def conflict() -> ApiError:
    """The 409 of an ``Idempotency-Key`` that names a job with other options."""
    return ApiError(409, "idempotency_conflict", "this Idempotency-Key was used for a job with other options")


def callback_url() -> str | None:
    """The request's ``callback_url``, checked (see ``_check_callback``)."""
    return _check_callback(request.values.get("callback_url"))


def _check_callback(url: str | None) -> str | None:
    """A ``callback_url``, checked (see ``jobs.webhooks``); ``None`` if empty.

    Raises:
        ApiError: 400 ``bad_callback_url``.
    """
    url = url or None
    if url is None:
        return None
    settings = current_app.config["DANCEPOSE"].jobs
    if not settings.webhook_secret:
        raise ApiError(400, "bad_callback_url", "this server has no WEBHOOK_SECRET, so it sends no webhooks")
    if len(url) > 2048:
        raise ApiError(400, "bad_callback_url", "callback_url is longer than 2048 characters")
    try:
        check_callback_url(
            url, allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private
        )
    except CallbackRefused as exc:
        raise ApiError(400, "bad_callback_url", str(exc)) from None
    return url


def submit_amendment(files: tuple[str, ...], status_operation: str, cancel_operation: str) -> dict[str, Any]:
    """What spectree cannot say of a submission (``POST /analyses``,
    ``POST /comparisons``): its file parts are video content, and a job
    links to its status and to its cancellation, so that clients and
    fuzzers can follow them."""
    links = {
        "status": {
            "operationId": status_operation,
            "parameters": {"job_id": "$response.body#/id"},
            "description": "The job's status, progress and, once it succeeded, its result.",
        },
        "cancel": {
            "operationId": cancel_operation,
            "parameters": {"job_id": "$response.body#/id"},
            "description": "Cancel the job (or delete it once finished).",
        },
    }
    return {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {name: {"contentType": VIDEO_MEDIA_TYPE} for name in files}
                }
            }
        },
        "responses": {"200": {"links": links}, "202": {"links": links}},
    }


SUBMIT_AMENDMENT = submit_amendment(("video", "file"), "get_analysis", "delete_analysis")


@bp.post("/analyses")
@amend(SUBMIT_AMENDMENT)
@spec.validate(
    query=SubmitOptions,
    form=SubmitForm,
    json=SubmitStored,
    headers=SubmitHeaders,
    resp=responses(
        (AnalysisAccepted, "The `Idempotency-Key` named a job already: that job."),
        HTTP_202=(AnalysisAccepted, "Queued; `Location` is its `status_url`."),
        HTTP_400="`missing_file` (no file in field `video` or `file`, or nothing uploaded under "
        "`video_key`), `unknown_pose`, "
        "`invalid_pose_definition`, `bad_parameter` (names the field or header), `bad_callback_url` "
        "(not https, not a public address, or no `WEBHOOK_SECRET` on the server).",
        HTTP_401=UNAUTHORIZED,
        HTTP_409="`idempotency_conflict`: the `Idempotency-Key` named a job with other options.",
        HTTP_413="`request_entity_too_large`: the upload is larger than `MAX_UPLOAD_MB`. "
        "`video_too_large`: the container declares a video longer than `MAX_VIDEO_SECONDS` or "
        "`MAX_FRAMES`, or frames larger than `MAX_FRAME_PIXELS` (found while decoding, it fails the job).",
        HTTP_415="`not_a_video`: the content (not the name) is not a video container.",
        HTTP_429="`too_many_requests`: past `RATE_LIMIT` uploads from this address; retry after "
        "the `Retry-After` seconds.",
    ),
    tags=["analyses"],
    operation_id="submit_analysis",
    security=API_KEY,
    skip_validation=True,
)
def submit_analysis() -> Response:
    """Start an analysis job.

    The same inputs as `POST /analyze` (multipart field `video` or `file`,
    options as query parameters or form fields) and an optional
    `callback_url`; or, for a video sent with `POST /uploads`, a JSON body
    `{"video_key", <options>}`. Answers as soon as the upload is stored and the job
    queued; follow `status_url` (or wait for the webhook). Errors found in
    the video itself (`undecodable_video`, `video_too_large`, ...) end the
    job `failed` with the same codes.
    """
    key = idempotency_key()
    stored = _stored_upload()
    callback = callback_url() if stored is None else _check_callback(stored.get("callback_url"))
    try:
        if stored is None:
            job, created = submit_upload(idempotency_key=key, callback_url=callback)
        else:
            job, created = submit_stored(stored, idempotency_key=key, callback_url=callback)
    except IdempotencyConflict:
        raise conflict() from None
    return accepted(job, 202 if created else 200)


@bp.get("/analyses/<job_id>")
@amend(
    {
        "responses": {
            "200": {
                "links": {
                    "result": {
                        "operationId": "get_analysis_result",
                        "parameters": {"job_id": "$response.body#/id"},
                        "description": "The result, streamed through the API (`result_url` may name "
                        "a presigned S3 URL instead).",
                    }
                }
            }
        }
    }
)
@spec.validate(
    resp=responses(AnalysisJob, HTTP_401=UNAUTHORIZED, HTTP_404=NOT_FOUND),
    tags=["analyses"],
    operation_id="get_analysis",
    security=API_KEY,
    skip_validation=True,
)
def get_analysis(job_id: str) -> Response:
    """An analysis job: status, progress, and its result once it succeeded.

    Poll it about once a second. `result` is exactly what `POST /analyze`
    answers for the same upload and options, inline up to
    `RESULT_INLINE_MAX_BYTES` (default 1 MB); a larger one is `null`: fetch
    it from `result_url`, which every succeeded job has (a presigned S3 URL
    valid a few minutes on the AWS backends, else `GET /analyses/{id}/result`).
    """
    job = found(job_id, JobKind.ANALYSIS)
    return Response(job_json(job, *result_fields(job)), mimetype="application/json")


@bp.get("/analyses/<job_id>/result")
@spec.validate(
    resp=responses(
        AnalysisResponse,
        HTTP_401=UNAUTHORIZED,
        HTTP_404=NOT_FOUND,
        HTTP_409="`no_result`: the job has no result: it is `queued`, `running`, `failed` or `canceled` "
        "(its `status` says which).",
    ),
    tags=["analyses"],
    operation_id="get_analysis_result",
    security=API_KEY,
    skip_validation=True,
)
def get_result(job_id: str) -> Response:
    """A succeeded job's result, streamed through the API.

    The same JSON as `result` in `GET /analyses/{id}`, of any size. The
    job's `result_url` names this path unless results live in S3 (then it is
    a presigned S3 URL, unless `RESULTS_VIA_API=1`).
    """
    job = found(job_id, JobKind.ANALYSIS)
    stream = result_stream(job)
    if stream is None:
        raise ApiError(409, "no_result", f"this job has no result: it is {job.status}")
    return Response(stream, mimetype="application/json")


@bp.delete("/analyses/<job_id>")
@spec.validate(
    resp=responses(None, HTTP_204=None, HTTP_401=UNAUTHORIZED, HTTP_404=NOT_FOUND),
    tags=["analyses"],
    operation_id="delete_analysis",
    security=API_KEY,
)
def delete_analysis(job_id: str) -> Response:
    """Cancel a job, or delete a finished one.

    A queued or running job is `canceled` (its worker stops within a
    second and frees its landmark processes) and stays readable until it
    expires; a finished job is deleted. Either way its upload, result and
    annotated video are deleted at once.
    """
    return cancel(job_id, JobKind.ANALYSIS)


@bp.get("/analyses")
@spec.validate(
    query=ListQuery,
    resp=responses(
        AnalysisList,
        HTTP_400="`bad_parameter`: `limit` outside 1-100, or a `cursor` this service did not give.",
        HTTP_401=UNAUTHORIZED,
        HTTP_403="`forbidden`: the server has no `API_KEYS`, so it cannot tell whose jobs are whose.",
    ),
    tags=["analyses"],
    operation_id="list_analyses",
    security=API_KEY,
    skip_validation=True,
)
def list_analyses() -> Response:
    """The caller's analysis jobs, newest first.

    Only the jobs submitted with the caller's API key; a server without
    `API_KEYS` answers 403 (ids are capabilities, never listed to
    strangers; the web page keeps its own history in the browser).
    """
    config: Config = current_app.config["DANCEPOSE"]
    caller = owner()
    if not config.api_keys or caller is None:
        raise ApiError(403, "forbidden", "listing needs the server to have API_KEYS")
    query = parse_fields(request.args, model=ListQuery)
    try:
        page, cursor = jobs().list_owned(caller, query.limit, query.cursor)
    except BadCursor as exc:
        raise ApiError(400, "bad_parameter", str(exc)) from None
    items = [
        {
            "id": job.id,
            "status": str(job.status),
            "status_url": status_url(job),
            "created_at": rfc3339(job.created_at),
            "updated_at": rfc3339(job.updated_at),
            "expires_at": rfc3339(job.expires_at),
        }
        for job in page
    ]
    return Response(_json({"analyses": items, "next_cursor": cursor}) + b"\n", mimetype="application/json")
