"""dancepose HTTP service: a thin Flask app over ``analyzer``.

``create_app(test_config)`` is the app factory; ``server:app`` is what
gunicorn serves (``gunicorn -c gunicorn.conf.py server:app``). Landmarks are
computed in the ``LandmarkPool``'s worker processes; this process only
streams the upload to disk, waits (cooperatively under gevent) and turns the
result into JSON, so ``/health`` keeps answering during analyses.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.utils import secure_filename

from analyzer import AnalysisOptions, LandmarkPool, analyze_video
from analyzer.errors import (
    AnalysisTimeoutError,
    AnalyzerError,
    ModelUnavailableError,
    NotAVideoError,
    PoolBusyError,
    UndecodableVideoError,
    UnknownPoseError,
    WorkerCrashedError,
)

log = logging.getLogger("dancepose")

#: HTTP status of each analyzer error.
STATUS: dict[type[AnalyzerError], int] = {
    UnknownPoseError: 400,
    NotAVideoError: 415,
    UndecodableVideoError: 422,
    WorkerCrashedError: 500,
    PoolBusyError: 503,
    ModelUnavailableError: 503,
    AnalysisTimeoutError: 504,
}


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    """Service settings, read from the environment (see the README's table).

    Attributes:
        max_upload_mb: largest accepted upload, in MB (``MAX_UPLOAD_MB``).
        analysis_timeout_s: time limit of one analysis, in s (``ANALYSIS_TIMEOUT_S``).
        queue_wait_s: how long a request waits for a free worker before a
            503, in s (``QUEUE_WAIT_S``).
        workers: landmark worker processes (``ANALYSIS_WORKERS``, default: cores).
        upload_dir: where uploads are kept while analyzed (``UPLOAD_DIR``,
            default: the system temp directory).
        sample_fps: default of the ``sample_fps`` parameter (``SAMPLE_FPS``,
            default: unset, every frame is analyzed).
    """

    max_upload_mb: float = field(default_factory=lambda: _env_float("MAX_UPLOAD_MB", 200.0))
    analysis_timeout_s: float = field(default_factory=lambda: _env_float("ANALYSIS_TIMEOUT_S", 300))
    queue_wait_s: float = field(default_factory=lambda: _env_float("QUEUE_WAIT_S", 30))
    workers: int = field(
        default_factory=lambda: int(os.environ.get("ANALYSIS_WORKERS") or os.cpu_count() or 1)
    )
    upload_dir: str = field(default_factory=lambda: os.environ.get("UPLOAD_DIR") or tempfile.gettempdir())
    sample_fps: float | None = field(
        default_factory=lambda: float(os.environ["SAMPLE_FPS"]) if os.environ.get("SAMPLE_FPS") else None
    )


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


bp = Blueprint("api", __name__)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    """The one error envelope: ``{"error": {"code", "message"}}``."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _float_arg(args: Any, name: str, default: Any, *, positive: bool = False) -> Any:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ApiError(400, "bad_parameter", f"{name} must be a finite number {bound}, got {value!r}")
    return number


def parse_options(args: Any, config: Config) -> AnalysisOptions:
    """Analysis options from query or form fields: ``poses`` (comma-separated),
    ``include`` (``frames``), ``smoothing_ms``, ``min_segment_ms``,
    ``sample_fps`` (default ``config.sample_fps``)."""
    poses = args.get("poses")
    include = {part.strip() for part in (args.get("include") or "").split(",") if part.strip()}
    if include - {"frames"}:
        raise ApiError(400, "bad_parameter", "include accepts only 'frames'")
    defaults = AnalysisOptions()
    return AnalysisOptions(
        poses=tuple(poses.split(",")) if poses is not None else None,
        include_frames="frames" in include,
        smoothing_ms=_float_arg(args, "smoothing_ms", defaults.smoothing_ms),
        min_segment_ms=_float_arg(args, "min_segment_ms", defaults.min_segment_ms),
        sample_fps=_float_arg(args, "sample_fps", config.sample_fps, positive=True),
    )


@contextmanager
def saved_upload(upload: FileStorage, directory: str) -> Iterator[Path]:
    """Save an upload under a generated name in a private temporary
    directory, and remove both when the block ends, however it ends."""
    private = tempfile.mkdtemp(prefix="dancepose-", dir=directory)
    try:
        path = Path(private) / "upload"
        upload.save(path)
        yield path
    finally:
        shutil.rmtree(private, ignore_errors=True)


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


def register_errors(app: Flask) -> None:
    """Answer every error with the JSON envelope and never a stack trace."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(AnalyzerError)
    def analyzer_error(exc: AnalyzerError):
        status = STATUS.get(type(exc), 500)
        headers = {"Retry-After": "5"} if isinstance(exc, PoolBusyError) else None
        if status >= 500:
            log.warning("analysis failed: %s: %s", exc.code, exc)
        return error_response(status, exc.code, str(exc), headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name or "error"
        if exc.code == 413:
            limit = current_app.config["DANCEPOSE"].max_upload_mb
            message = f"the upload is larger than the limit of {limit:g} MB"
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return error_response(exc.code or 500, code, message, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal", "internal server error")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    Args:
        test_config: Flask config overrides; ``DANCEPOSE`` may hold a
            ``Config`` to use instead of the environment's.
    """
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the contract's field order
    app.config["DANCEPOSE"] = Config()
    app.config.update(test_config or {})
    config: Config = app.config["DANCEPOSE"]
    app.config["MAX_CONTENT_LENGTH"] = int(config.max_upload_mb * 1024 * 1024)
    app.extensions["dancepose.pool"] = LandmarkPool(config.workers)
    app.register_blueprint(bp)
    register_errors(app)
    return app


app = create_app()
