"""The one JSON error envelope, ``{"error": {"code", "message"}}``, for every error."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import LimitedStream

from analyzer.compare import InsufficientPoseError
from analyzer.errors import (
    AnalysisTimeoutError,
    AnalyzerError,
    AnnotationError,
    ModelUnavailableError,
    NotAVideoError,
    PoolBusyError,
    PoseDefinitionError,
    UndecodableVideoError,
    UnknownPoseError,
    VideoTooLargeError,
    WorkerCrashedError,
)

log = logging.getLogger("dancepose")

#: HTTP status of each analyzer error.
STATUS: dict[type[AnalyzerError], int] = {
    UnknownPoseError: 400,
    PoseDefinitionError: 400,
    NotAVideoError: 415,
    UndecodableVideoError: 422,
    InsufficientPoseError: 422,
    VideoTooLargeError: 413,
    WorkerCrashedError: 500,
    AnnotationError: 500,
    PoolBusyError: 503,
    ModelUnavailableError: 503,
    AnalysisTimeoutError: 504,
}


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    """The one error envelope: ``{"error": {"code", "message"}}``."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def too_large() -> tuple[str, str]:
    """``code`` and message of a 413 that werkzeug raised while reading the
    request, naming what was too large. werkzeug raises the same bare
    ``RequestEntityTooLarge`` for each of its limits, so the cause is read
    from the request: a body past ``MAX_CONTENT_LENGTH`` (``MAX_UPLOAD_MB``),
    declared in ``Content-Length`` or, when chunked, read up to that limit,
    is the upload; anything else is the form: a field other than the file
    past ``MAX_FORM_MEMORY_SIZE`` bytes (Flask's default, 500 000), or more
    than ``MAX_FORM_PARTS`` parts (1000).
    """
    upload_limit = request.max_content_length
    declared = request.content_length
    if declared is not None:
        upload = upload_limit is not None and declared > upload_limit
    else:  # chunked: werkzeug's stream stops at the limit (asked for only here: it raises otherwise)
        upload = isinstance(request.stream, LimitedStream) and request.stream.is_exhausted
    if upload:
        limit_mb = current_app.config["DANCEPOSE"].max_upload_mb
        return "request_entity_too_large", f"the upload is larger than the limit of {limit_mb:g} MB"
    return "form_field_too_large", (
        f"a form field other than the file is larger than the limit of "
        f"{request.max_form_memory_size} bytes, or the form has more than "
        f"{request.max_form_parts} parts"
    )


def register_errors(app: Flask) -> None:
    """Answer every error with the JSON envelope and never a stack trace."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

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
        if exc.code == 429:
            message = f"too many analyses from this address (limit: {exc.description}); see Retry-After"
        if exc.code == 413:
            code, message = too_large()
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return error_response(exc.code or 500, code, message, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal", "internal server error")
