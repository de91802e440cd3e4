"""Gunicorn's gevent worker, with the JSON error envelope for the requests
gunicorn refuses before Flask sees them.

Gunicorn parses the request line and headers itself; when they break its
limits (``limit_request_line``: 4094 bytes of method, path, query and
version; ``limit_request_fields``: 100 headers; ``limit_request_field_size``:
8190 bytes a header) or HTTP's syntax, its ``Worker.handle_error`` answers an
HTML page. ``EnvelopeGeventWorker`` answers those with
``{"error": {"code", "message"}}`` instead, with the status gunicorn chose,
so that every error a client gets from the service has the one envelope.
Errors that are not the client's (the application's, a configuration
problem) keep gunicorn's own handling; Flask answers every error it raises
itself (``api.errors``).

``gunicorn.conf.py`` selects it with ``worker_class``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from gunicorn import util
from gunicorn.http.errors import (
    ChunkMissingTerminator,
    ExpectationFailed,
    InvalidChunkExtension,
    InvalidChunkSize,
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    InvalidSchemeHeaders,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    UnsupportedTransferCoding,
)
from gunicorn.workers.ggevent import GeventWorker

#: Request errors answered with the envelope: exception classes -> status,
#: reason phrase and ``code`` (the statuses are gunicorn's own).
REQUEST_ERRORS: list[tuple[tuple[type[Exception], ...], int, str, str]] = [
    ((LimitRequestLine,), 414, "URI Too Long", "uri_too_long"),
    ((LimitRequestHeaders,), 431, "Request Header Fields Too Large", "request_header_fields_too_large"),
    ((ExpectationFailed,), 417, "Expectation Failed", "expectation_failed"),
    ((UnsupportedTransferCoding,), 501, "Not Implemented", "not_implemented"),
    (
        (
            InvalidRequestLine,
            InvalidRequestMethod,
            InvalidHTTPVersion,
            InvalidHeader,
            InvalidHeaderName,
            ObsoleteFolding,
            InvalidSchemeHeaders,
            InvalidChunkSize,
            ChunkMissingTerminator,
            InvalidChunkExtension,
        ),
        400,
        "Bad Request",
        "bad_request",
    ),
]


def envelope(exc: Exception, limit_request_line: int) -> tuple[int, str, dict[str, Any]] | None:
    """Status, reason phrase and JSON body for a request gunicorn refused,
    or ``None`` for an error that is not the client's.

    Args:
        exc: what gunicorn's parser (or the application) raised.
        limit_request_line: gunicorn's ``limit_request_line``, in bytes.
    """
    if isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName)):
        return None  # the application's fault: gunicorn answers 500
    found = next((entry for entry in REQUEST_ERRORS if isinstance(exc, entry[0])), None)
    if found is None:
        return None
    _, status, reason, code = found
    if isinstance(exc, LimitRequestLine):
        message = f"the request line (method, path, query string) is longer than {limit_request_line} bytes"
    elif isinstance(exc, LimitRequestHeaders):
        message = f"the request headers are too large: {exc}"
    else:
        message = f"the request is not valid HTTP: {exc}"
    return status, reason, {"error": {"code": code, "message": message}}


class EnvelopeGeventWorker(GeventWorker):
    """``GeventWorker`` whose answers to malformed or oversized requests are
    the JSON error envelope (see the module)."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        """Answer a request gunicorn refused with the envelope and close the
        connection; leave any other error to gunicorn."""
        answer = envelope(exc, self.cfg.limit_request_line)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, body = answer
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        payload = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n"
            f"X-Request-ID: {uuid.uuid4().hex}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + payload)
        except OSError:
            self.log.debug("Failed to send error message.")
