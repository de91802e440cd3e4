"""``POST /compare``: a student's video against the teacher's
(``analyzer.compare``), in the OpenAPI document like ``POST /analyze``. It
runs as a comparison job (``jobs.comparison``) and waits for it, as ``POST
/analyze`` does for an analysis; ``submit_comparison`` is also what ``POST
/comparisons`` (``api.comparisons``) submits with."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.utils import secure_filename

from analyzer.errors import AnalyzerError
from analyzer.video import frames_to_analyze
from api.compare_schemas import CompareForm, CompareOptions, ComparisonOptions, ComparisonResponse
from api.config import Config
from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, amend, responses, spec
from api.params import parse_fields
from api.schemas import VIDEO_MEDIA_TYPE
from api.submit import jobs, owner, wait_for_result
from api.uploads import check_upload, saved_upload
from jobs.records import ComparisonSpec, Job

bp = Blueprint("compare", __name__)

#: The two file fields, in the order the videos are analyzed.
ROLES = ComparisonSpec.ROLES


def comparison_spec(fields: ComparisonOptions, config: Config, filenames: dict[str, str]) -> ComparisonSpec:
    """The comparison job of validated request fields, with the server's
    defaults and limits; ``filenames`` are the uploads' names by role."""
    limits = config.video_limits
    names = {role: secure_filename(filenames[role]) or role for role in ROLES}
    return ComparisonSpec(
        include_frames="frames" in {part.strip() for part in (fields.include or "").split(",")},
        sample_fps=config.sample_fps if fields.sample_fps is None else fields.sample_fps,
        reference_filename=names["reference"],
        performance_filename=names["performance"],
        timeout_s=config.analysis_timeout_s,
        max_duration_s=limits.max_duration_s,
        max_frames=limits.max_frames,
        max_pixels=limits.max_pixels,
    )


def submit_comparison(
    options: type[ComparisonOptions],
    *,
    check_now: bool,
    idempotency_key: str | None = None,
    callback_url: str | None = None,
) -> tuple[Job, bool]:
    """Validate the request, store its two uploads and queue their comparison.

    Args:
        options: the endpoint's options model.
        check_now: sniff both videos and check the limits their containers
            declare before the job is queued (``POST /comparisons``).
            Without it (``POST /compare``) the worker checks them in the
            order it analyzes the videos, as ``POST /compare`` always has: a
            reference with too little pose fails before the performance is read.
        idempotency_key, callback_url: see ``jobs.service.JobService.submit``.

    Returns:
        The job and whether it is new (``False``: ``idempotency_key`` named it).

    Raises:
        ApiError: 400 ``missing_file`` naming the field, or ``bad_parameter``
            (also for a video sent twice).
        NotAVideoError, VideoTooLargeError: (``check_now``) the message names the video.
        IdempotencyConflict: the key names a job with other options.
    """
    uploads = {role: request.files.get(role) for role in ROLES}
    for role, upload in uploads.items():
        if upload is None:
            raise ApiError(
                400, "missing_file", f"send the {role} video as multipart/form-data field '{role}'"
            )
        if len(request.files.getlist(role)) > 1:
            raise ApiError(400, "bad_parameter", f"{role}: send one {role} video")
    config: Config = current_app.config["DANCEPOSE"]
    fields = parse_fields(request.args, request.form, model=options, files=request.files)
    spec = comparison_spec(fields, config, {role: upload.filename or "" for role, upload in uploads.items()})
    with (
        saved_upload(uploads["reference"], config.upload_dir) as reference,
        saved_upload(uploads["performance"], config.upload_dir) as performance,
    ):
        paths = {"reference": reference, "performance": performance}
        if check_now:
            for role, path in paths.items():
                try:
                    check_upload(path, config.video_limits)
                except AnalyzerError as exc:
                    raise type(exc)(f"{role} video: {exc}") from None
        counts = [frames_to_analyze(path, spec.sample_fps) for path in paths.values()]
        return jobs().submit(
            paths,
            spec,
            owner=owner(),
            idempotency_key=idempotency_key,
            callback_url=callback_url,
            frames_total=None if None in counts else sum(counts),
        )


@bp.post("/compare")
@amend(
    {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {name: {"contentType": VIDEO_MEDIA_TYPE} for name in ROLES}
                }
            }
        }
    }
)
@spec.validate(
    query=CompareOptions,
    form=CompareForm,
    resp=responses(
        ComparisonResponse,
        HTTP_400="`missing_file` (no file in field `reference` or `performance`: says which), "
        "`bad_parameter` (names the field).",
        HTTP_401=UNAUTHORIZED,
        HTTP_413="`request_entity_too_large`: the two uploads together are larger than `MAX_UPLOAD_MB`. "
        "`form_field_too_large`: a form field other than the files is larger than 500 000 bytes, "
        "or the form has more than 1000 parts. "
        "`video_too_large`: a video longer than `MAX_VIDEO_SECONDS` or `MAX_FRAMES`, or with frames "
        "larger than `MAX_FRAME_PIXELS` (the message names it).",
        HTTP_415="`not_a_video`: the content of `reference` or `performance` (named in the message) is "
        "not a video container.",
        HTTP_422="`insufficient_pose`: a person in under 50% of the frames of one video (the message "
        "names it: `reference` or `performance`, and its file name). `undecodable_video`: a video "
        "container with no decodable frame (named).",
        HTTP_429="`too_many_requests`: past `RATE_LIMIT` uploads from this address; retry after "
        "the `Retry-After` seconds.",
        HTTP_500="`internal` (an unexpected failure), `worker_crashed` (an analysis process died).",
        HTTP_503="`busy`: `MAX_PENDING_ANALYSES` are running or waiting, or every analysis worker "
        "stayed busy for `QUEUE_WAIT_S`; retry after the `Retry-After` seconds. "
        "`model_unavailable`: no pose model.",
        HTTP_504="`analysis_timeout`: the landmarks of a video took longer than `ANALYSIS_TIMEOUT_S`.",
    ),
    tags=["comparison"],
    operation_id="compare",
    security=API_KEY,
    skip_validation=True,
)
def compare() -> Response:
    """Compare a performance video with a reference video.

    Send both videos as `multipart/form-data` fields `reference` (the
    teacher's) and `performance` (the student's); the options may be query
    parameters or form fields. The performance is aligned in time with the
    reference (offset, tempo, lag), compared as recorded and mirrored, and
    scored 0-100 overall, per body part and per 1-2 s segment of the
    reference. The answer comes when both videos are analyzed and compared.
    (It runs as a job, as `POST /comparisons` does, and waits for it.)
    """
    job, _ = submit_comparison(CompareOptions, check_now=False)
    progress_id = parse_fields(
        request.args, request.form, model=CompareOptions, files=request.files
    ).progress_id
    _, body = wait_for_result(job, progress_id)
    return Response(body, mimetype="application/json")
