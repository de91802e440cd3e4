"""``POST /compare``: a student's video against the teacher's
(``analyzer.compare``), in the OpenAPI document like ``POST /analyze``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.utils import secure_filename

from analyzer.compare.videos import ROLES, compare_videos
from analyzer.video import frames_to_analyze
from api.compare_schemas import CompareForm, CompareOptions, ComparisonResponse
from api.config import Config
from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, amend, responses, spec
from api.params import parse_fields
from api.schemas import VIDEO_MEDIA_TYPE
from api.uploads import saved_upload

bp = Blueprint("compare", __name__)


@bp.post("/compare")
@amend(
    {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {
                        name: {"contentType": VIDEO_MEDIA_TYPE} for name in ("reference", "performance")
                    }
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
    """
    uploads = {role: request.files.get(role) for role in ROLES}
    for role, upload in uploads.items():
        if upload is None:
            raise ApiError(
                400, "missing_file", f"send the {role} video as multipart/form-data field '{role}'"
            )
    config: Config = current_app.config["DANCEPOSE"]
    fields = parse_fields(request.args, request.form, model=CompareOptions, files=request.files)
    sample_fps = config.sample_fps if fields.sample_fps is None else fields.sample_fps
    include_frames = "frames" in {part.strip() for part in (fields.include or "").split(",")}
    board = current_app.extensions["dancepose.progress"]
    with (
        saved_upload(uploads["reference"], config.upload_dir) as reference,
        saved_upload(uploads["performance"], config.upload_dir) as performance,
    ):
        expected = None
        if fields.progress_id:
            counts = [frames_to_analyze(path, sample_fps) for path in (reference, performance)]
            expected = None if None in counts else sum(counts)
        with board.track(fields.progress_id, expected) as progress:
            result = compare_videos(
                reference,
                performance,
                current_app.extensions["dancepose.pool"],
                names=tuple(secure_filename(uploads[role].filename or "") or role for role in ROLES),
                sample_fps=sample_fps,
                include_frames=include_frames,
                timeout_s=config.analysis_timeout_s,
                wait_s=config.queue_wait_s,
                limits=config.video_limits,
                on_progress=progress.update,
            )
    return jsonify(result.to_dict())
