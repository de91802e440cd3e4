"""The endpoints: views of a few lines over ``analyzer``."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.utils import secure_filename

from analyzer import analyze_video
from api.config import Config
from api.errors import ApiError
from api.params import parse_options
from api.uploads import saved_upload

bp = Blueprint("api", __name__)


@bp.get("/health")
def health():
    """Liveness for the load balancer: no model, no disk, no pool."""
    return jsonify({"status": "ok"})


@bp.post("/analyze")
def analyze():
    """Analyze an uploaded video (multipart field ``video`` or ``file``)."""
    upload = request.files.get("video") or request.files.get("file")
    if upload is None:
        raise ApiError(400, "missing_file", "send the video as multipart/form-data field 'video'")
    config: Config = current_app.config["DANCEPOSE"]
    options = parse_options(request.values, config)
    with saved_upload(upload, config.upload_dir) as path:
        result = analyze_video(
            path,
            current_app.extensions["dancepose.pool"],
            options,
            filename=secure_filename(upload.filename or "") or "upload",
            timeout_s=config.analysis_timeout_s,
            wait_s=config.queue_wait_s,
        )
    return jsonify(result.to_dict())
