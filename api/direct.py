"""Direct upload (``JOB_BACKEND=aws``): ``POST /uploads`` answers a
presigned S3 POST, so that a browser sends the video straight to the
bucket and the API never holds its bytes; ``POST /analyses`` then takes
``{"video_key": ...}`` (``api.submit.submit_stored``)."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, Response, current_app

from api.analyses import rfc3339
from api.config import Config
from api.errors import ApiError
from api.openapi import API_KEY, UNAUTHORIZED, responses, spec
from api.schemas import DirectUpload
from api.submit import direct_store

bp = Blueprint("direct", __name__)

#: How long a presigned POST may be used, in s.
UPLOAD_EXPIRES_S = 300


@bp.post("/uploads")
@spec.validate(
    resp=responses(
        DirectUpload,
        HTTP_401=UNAUTHORIZED,
        HTTP_404="`not_found`: this server keeps uploads on its own disk (`JOB_BACKEND=embedded`); "
        "send the video to `POST /analyses` itself.",
    ),
    tags=["analyses"],
    operation_id="create_upload",
    security=API_KEY,
)
def create_upload() -> Response:
    """Permission to upload one video straight to object storage.

    POST `fields`, a `Content-Type` field with a `video/*` type, then the
    file (field `file`) to `url` within 5 minutes; at most `max_bytes`.
    Then start the analysis with `POST /analyses` and the JSON body
    `{"video_key": ..., <options>}`. The content is checked when the job
    runs: a file that is not a video fails it with `not_a_video`.
    """
    store = direct_store()
    if store is None:
        raise ApiError(404, "not_found", "this server takes uploads only through POST /analyses")
    config: Config = current_app.config["DANCEPOSE"]
    key = "direct-" + secrets.token_urlsafe(24)
    max_bytes = int(config.max_upload_mb * 1024 * 1024)
    presigned = store.presigned_post(key, max_bytes, UPLOAD_EXPIRES_S)
    body = DirectUpload(
        video_key=key,
        url=presigned["url"],
        fields=presigned["fields"],
        max_bytes=max_bytes,
        expires_at=rfc3339(time.time() + UPLOAD_EXPIRES_S),
    )
    return Response(body.model_dump_json() + "\n", mimetype="application/json")
