"""Request IDs and structured JSON logs.

Every request gets an ID: the caller's ``X-Request-ID`` when it is a sane
token (the ALB's trace ID or a client's), otherwise a new one. It is sent
back in the ``X-Request-ID`` header of every response and added to every
log line written while the request runs. Logs are JSON objects, one per
line on stdout (``LOGCONFIG``, used by ``gunicorn.conf.py``); gunicorn's
access lines carry the request's fields (method, path, status, duration,
request ID) as keys of their own.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:=-]{1,128}")

#: gunicorn access-log atoms kept as JSON fields (see gunicorn's "Access log format").
ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "B": "bytes", "M": "duration_ms", "h": "remote"}


def init_app(app: Flask) -> None:
    """Give each request an ID and send it back in ``X-Request-ID``."""

    @app.before_request
    def assign_id() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def send_id(response: Response) -> Response:
        response.headers[HEADER] = g.get("request_id") or uuid.uuid4().hex
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records logged while a request runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and "request_id" in g:
            record.request_id = g.request_id
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, plus the fields of gunicorn access lines."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message)
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            for atom, name in ACCESS_FIELDS.items():
                log_data[name] = record.args.get(atom)
            log_data["request_id"] = record.args.get("{x-request-id}o")


#: ``logging.config.dictConfig`` settings: JSON lines on stdout for the app
#: and for gunicorn's error and access logs.
LOGCONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": RequestIdFilter}},
    "formatters": {
        "json": {
            "()": JsonFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}
