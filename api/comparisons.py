"""The asynchronous comparison API: ``POST /comparisons`` starts a
comparison job, ``GET /comparisons/{id}`` reads it, ``DELETE
/comparisons/{id}`` cancels or deletes it. The same job engine as
``/analyses`` (``api.analyses``), with the inputs and result of ``POST
/compare``; an id of one kind is unknown (404) to the other's endpoints."""

from __future__ import annotations

from flask import Blueprint, Response

from api.analyses import (
    NOT_FOUND,
    accepted,
    callback_url,
    cancel,
    conflict,
    found,
    idempotency_key,
    job_json,
    submit_amendment,
)
from api.compare import ROLES, submit_comparison
from api.compare_schemas import (
    ComparisonAccepted,
    ComparisonJob,
    SubmitComparisonForm,
    SubmitComparisonOptions,
)
from api.openapi import API_KEY, UNAUTHORIZED, amend, responses, spec
from api.schemas import SubmitHeaders
from api.submit import jobs
from jobs.backends import IdempotencyConflict
from jobs.records import JobKind

bp = Blueprint("comparisons", __name__)


@bp.post("/comparisons")
@amend(submit_amendment(ROLES, "get_comparison", "delete_comparison"))
@spec.validate(
    query=SubmitComparisonOptions,
    form=SubmitComparisonForm,
    headers=SubmitHeaders,
    resp=responses(
        (ComparisonAccepted, "The `Idempotency-Key` named a job already: that job."),
        HTTP_202=(ComparisonAccepted, "Queued; `Location` is its `status_url`."),
        HTTP_400="`missing_file` (no file in field `reference` or `performance`: says which), "
        "`bad_parameter` (names the field or header), `bad_callback_url` (not https, not a public "
        "address, or no `WEBHOOK_SECRET` on the server).",
        HTTP_401=UNAUTHORIZED,
        HTTP_409="`idempotency_conflict`: the `Idempotency-Key` named a job with other options "
        "(or an analysis job).",
        HTTP_413="`request_entity_too_large`: the two uploads together are larger than `MAX_UPLOAD_MB`. "
        "`form_field_too_large`: a form field other than the files is larger than 500 000 bytes, "
        "or the form has more than 1000 parts. "
        "`video_too_large`: a container declares a video longer than `MAX_VIDEO_SECONDS` or "
        "`MAX_FRAMES`, or frames larger than `MAX_FRAME_PIXELS` (the message names the video; found "
        "while decoding, it fails the job).",
        HTTP_415="`not_a_video`: the content of `reference` or `performance` (named in the message) is "
        "not a video container.",
        HTTP_429="`too_many_requests`: past `RATE_LIMIT` uploads from this address; retry after "
        "the `Retry-After` seconds.",
    ),
    tags=["comparisons"],
    operation_id="submit_comparison",
    security=API_KEY,
    skip_validation=True,
)
def submit() -> Response:
    """Start a comparison job.

    The same inputs as `POST /compare` (multipart fields `reference` and
    `performance`, options as query parameters or form fields) and an
    optional `callback_url`. Answers as soon as both uploads are stored and
    the job queued; follow `status_url` (or wait for the webhook, event
    `comparison.finished`). Errors found in the videos themselves
    (`insufficient_pose`, `undecodable_video`, ...) end the job `failed`
    with the codes `POST /compare` answers.
    """
    key = idempotency_key()
    callback = callback_url()
    try:
        job, created = submit_comparison(
            SubmitComparisonOptions, check_now=True, idempotency_key=key, callback_url=callback
        )
    except IdempotencyConflict:
        raise conflict() from None
    return accepted(job, 202 if created else 200)


@bp.get("/comparisons/<job_id>")
@spec.validate(
    resp=responses(ComparisonJob, HTTP_401=UNAUTHORIZED, HTTP_404=NOT_FOUND),
    tags=["comparisons"],
    operation_id="get_comparison",
    security=API_KEY,
    skip_validation=True,
)
def get_comparison(job_id: str) -> Response:
    """A comparison job: status, progress, and its result once it succeeded.

    Poll it about once a second; `progress` counts the frames of both
    videos. `result` is exactly what `POST /compare` answers for the same
    uploads and options. An analysis job's id is 404 here.
    """
    job = found(job_id, JobKind.COMPARISON)
    return Response(job_json(job, jobs().result(job)), mimetype="application/json")


@bp.delete("/comparisons/<job_id>")
@spec.validate(
    resp=responses(None, HTTP_204=None, HTTP_401=UNAUTHORIZED, HTTP_404=NOT_FOUND),
    tags=["comparisons"],
    operation_id="delete_comparison",
    security=API_KEY,
)
def delete_comparison(job_id: str) -> Response:
    """Cancel a comparison job, or delete a finished one.

    A queued or running job is `canceled` (its worker stops within a
    second and frees its landmark processes) and stays readable until it
    expires; a finished job is deleted. Either way both uploads and the
    result are deleted at once.
    """
    return cancel(job_id, JobKind.COMPARISON)
