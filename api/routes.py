"""The synchronous endpoints: ``/health`` and ``POST /analyze``, which runs
its analysis as a job (``jobs``) and waits for it; each in the OpenAPI
document (``api.openapi``)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from api.annotated import annotated_video_field
from api.openapi import API_KEY, UNAUTHORIZED, amend, responses, spec
from api.params import parse_fields
from api.schemas import (
    VIDEO_MEDIA_TYPE,
    AnalysisResponse,
    AnalyzeForm,
    AnalyzeOptions,
    HealthResponse,
)
from api.submit import submit_upload, wait_for_result

bp = Blueprint("api", __name__)


@bp.get("/health")
@spec.validate(resp=responses(HealthResponse), tags=["service"], operation_id="health")
def health() -> Response:
    """Liveness for the load balancer: no model, no disk, no pool."""
    return jsonify({"status": "ok"})


#: What ``POST /analyze``'s operation says beyond spectree's: the file parts
#: are video content, and a 200 links to the analysis's progress (under the
#: ``progress_id`` sent as a query parameter or a form field) and to its
#: annotated video, so that clients and fuzzers can follow them.
ANALYZE_AMENDMENT = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "encoding": {name: {"contentType": VIDEO_MEDIA_TYPE} for name in ("video", "file")}
            }
        }
    },
    "responses": {
        "200": {
            "links": {
                "progress": {
                    "operationId": "progress",
                    "parameters": {"progress_id": "$request.query.progress_id"},
                    "description": "How the analysis went, for a minute after the answer "
                    "(with a `progress_id` query parameter).",
                },
                "progress_form": {
                    "operationId": "progress",
                    "parameters": {"progress_id": "$request.body#/progress_id"},
                    "description": "The same, with `progress_id` sent as a form field.",
                },
                "annotated_video": {
                    "operationId": "annotated_video",
                    "parameters": {"video_id": "$response.body#/annotated_video/id"},
                    "description": "The annotated video (with `annotate=1`).",
                },
            }
        }
    },
}


@bp.post("/analyze")
@amend(ANALYZE_AMENDMENT)
@spec.validate(
    query=AnalyzeOptions,
    form=AnalyzeForm,
    resp=responses(
        AnalysisResponse,
        HTTP_400="`missing_file` (no file in field `video` or `file`), `unknown_pose` (lists the "
        "valid names), `invalid_pose_definition` (says where the JSON of `poses` is wrong), "
        "`bad_parameter` (names the field).",
        HTTP_401=UNAUTHORIZED,
        HTTP_413="`request_entity_too_large`: the upload is larger than `MAX_UPLOAD_MB`. "
        "`form_field_too_large`: a form field other than the file is larger than 500 000 bytes, "
        "or the form has more than 1000 parts. "
        "`video_too_large`: longer than `MAX_VIDEO_SECONDS` or `MAX_FRAMES`, or frames larger than "
        "`MAX_FRAME_PIXELS`.",
        HTTP_415="`not_a_video`: the content (not the name) is not a video container.",
        HTTP_422="`undecodable_video`: a video container with no decodable frame.",
        HTTP_500="`internal` (an unexpected failure), `worker_crashed` (an analysis process died), "
        "`annotation_failed` (the annotated video could not be rendered).",
        HTTP_429="`too_many_requests`: past `RATE_LIMIT` uploads from this address; retry after "
        "the `Retry-After` seconds.",
        HTTP_503="`busy`: `MAX_PENDING_ANALYSES` are running or waiting, or every analysis worker "
        "(or annotated-video renderer) stayed busy for `QUEUE_WAIT_S`; retry after the "
        "`Retry-After` seconds. `model_unavailable`: no pose model.",
        HTTP_504="`analysis_timeout`: the analysis (or the rendering) ran past `ANALYSIS_TIMEOUT_S`.",
    ),
    tags=["analysis"],
    operation_id="analyze",
    security=API_KEY,
    skip_validation=True,
)
def analyze() -> Response:
    """Analyze an uploaded video.

    Send the video as `multipart/form-data` field `video` (or `file`); the
    options may be query parameters or form fields. The answer comes when the
    analysis is done; `GET /progress/{progress_id}` reports on it meanwhile.
    (It runs as a job, as `POST /analyses` does, and waits for it.)
    """
    job, _ = submit_upload()
    finished, body = wait_for_result(
        job, parse_fields(request.args, request.form, files=request.files).progress_id
    )
    if finished.annotated_id is not None and finished.annotated_expires_at is not None:
        field = annotated_video_field(finished.annotated_id, finished.annotated_expires_at)
        body = (
            body.rstrip()[:-1]
            + b',"annotated_video":'
            + json.dumps(field, separators=(",", ":")).encode()
            + b"}\n"
        )
    return Response(body, mimetype="application/json")
