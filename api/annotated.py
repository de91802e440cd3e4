"""``GET /annotated/{video_id}.mp4``: the annotated videos job workers
render (``jobs.render``) into the ``AnnotatedStore``, served with byte
ranges until they expire."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, send_file, url_for

from api.errors import ApiError
from api.openapi import file_view
from jobs.aws.annotated import S3AnnotatedStore

bp = Blueprint("annotated", __name__)


def annotated_url(video_id: str) -> str:
    """Path of an annotated video, relative to the service's base URL."""
    return url_for("annotated.annotated_video", video_id=video_id)


def annotated_video_field(video_id: str, expires_at: float) -> dict[str, Any]:
    """The ``annotated_video`` field of ``POST /analyze``'s response."""
    return {
        "id": video_id,
        "url": annotated_url(video_id),
        "expires_in_s": round(max(0.1, expires_at - time.time()), 1),
    }


@bp.get("/annotated/<video_id>.mp4")
@file_view(
    "video/mp4",
    tags=["analysis"],
    operation_id="annotated_video",
    ranges=True,
    protected=False,
    parameters={"video_id": "The id in `annotated_video.url` of an analysis."},
    HTTP_404="`not_found`: unknown or expired id.",
)
def annotated_video(video_id: str) -> Response:
    """An annotated video (H.264 MP4), while it lasts.

    The URL comes from `annotated_video.url` of `POST /analyze` with
    `annotate=1` (or of `GET /analyses/{id}`); the file is deleted after
    `ANNOTATED_TTL_S` (default 15 min). Byte ranges are supported, so
    players can seek. When videos live in S3 (`JOB_BACKEND=aws`), the
    answer is a `302` to a presigned S3 URL valid until the video expires,
    or the video streamed from S3 when `ANNOTATED_VIA_API=1`.
    """
    store = current_app.extensions["dancepose.annotated"]
    if isinstance(store, S3AnnotatedStore):
        return _from_s3(store, video_id)
    found = store.find(video_id)
    if found is None:
        raise ApiError(404, "not_found", "no annotated video under this id (unknown or expired)")
    path, left = found
    response = send_file(path, mimetype="video/mp4", conditional=True, max_age=int(left))
    response.headers["Cache-Control"] = f"private, max-age={int(left)}"
    return response


def _from_s3(store: S3AnnotatedStore, video_id: str) -> Response:
    """A redirect to a presigned URL, or the object streamed with its range."""
    left = store.left_s(video_id)
    if left is None:
        raise ApiError(404, "not_found", "no annotated video under this id (unknown or expired)")
    if not store.stream:
        response = redirect(store.presigned_url(video_id, left), code=302)
        response.headers["Cache-Control"] = "no-store"  # the URL's signature expires
        return response
    found = store.get(video_id, request.headers.get("Range"))
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(found["ContentLength"]),
        "Cache-Control": f"private, max-age={int(left)}",
    }
    if "ContentRange" in found:
        headers["Content-Range"] = found["ContentRange"]
    body = found["Body"]
    return Response(
        iter(lambda: body.read(64 * 1024), b""),
        status=206 if "ContentRange" in found else 200,
        mimetype="video/mp4",
        headers=headers,
    )
