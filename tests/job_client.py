"""A client of the job endpoints for the tests, one for both kinds of job:
analyses (``/analyses``) and comparisons (``/comparisons``, ``/compare``).
Submit, read the 202, poll until finished, check a signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import requests

from tests.test_api import ANALYSIS_TIMEOUT, http

#: The collection of each kind of job.
Kind = Literal["analyses", "comparisons"]

#: A job's final statuses.
FINAL = {"succeeded", "failed", "canceled"}

#: The webhook secret of ``SIGNED_WEBHOOKS``.
SECRET = "webhook-test-secret"

#: A server's environment for webhooks: signed with ``SECRET``, allowed to
#: call a receiver on loopback over http, and retried quickly.
SIGNED_WEBHOOKS = {
    "WEBHOOK_SECRET": SECRET,
    "WEBHOOK_ALLOW_HTTP": "1",
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_BACKOFF_S": "0.2",
    "WEBHOOK_RETRY_S": "30",
}


def submit(
    url: str,
    path: Path,
    *,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST one file to ``/analyses``."""
    return http(
        "post",
        url + "/analyses",
        files={"video": (path.name, path.read_bytes(), "application/octet-stream")},
        params=params,
        data=data,
        headers=headers or {},
        timeout=60,
    )


def comparison_files(reference: Path | bytes | None, performance: Path | bytes | None) -> dict[str, tuple]:
    """The file fields of a comparison: each a path, raw bytes, or ``None`` to leave the field out."""
    files = {}
    for field, given in (("reference", reference), ("performance", performance)):
        if isinstance(given, Path):
            files[field] = (given.name, given.read_bytes(), "video/mp4")
        elif given is not None:
            files[field] = ("upload.mp4", given, "video/mp4")
    return files


def post_compare(
    url: str, reference: Path | bytes | None, performance: Path | bytes | None, **params: str
) -> requests.Response:
    """POST the two files to ``/compare`` and wait for its answer."""
    files = comparison_files(reference, performance)
    return http("post", url + "/compare", files=files, params=params, timeout=ANALYSIS_TIMEOUT)


def submit_comparison(
    url: str,
    reference: Path | bytes | None,
    performance: Path | bytes | None,
    *,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST the two files to ``/comparisons``."""
    files = comparison_files(reference, performance)
    return http(
        "post", url + "/comparisons", files=files, params=params, data=data, headers=headers or {}, timeout=60
    )


def accepted(response: requests.Response, status: int = 202, kind: Kind = "analyses") -> str:
    """The job id of a ``POST /analyses`` or ``POST /comparisons`` answer, its shape checked."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["id", "status", "status_url"]
    assert len(body["id"]) == 32 and body["status_url"] == f"/{kind}/{body['id']}"
    assert response.headers["Location"] == body["status_url"]
    return body["id"]


def poll(
    url: str,
    job_id: str,
    until: Callable[[dict], bool] = lambda body: body["status"] in FINAL,
    timeout: float = 180,
    kind: Kind = "analyses",
    **kwargs: Any,
) -> dict:
    """``GET /{kind}/{id}`` about 5 times a second until ``until(body)``;
    ``kwargs`` go to ``requests`` (headers)."""
    deadline = time.monotonic() + timeout
    while True:
        response = http("get", f"{url}/{kind}/{job_id}", timeout=10, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        if until(body):
            return body
        assert time.monotonic() < deadline, f"job {job_id} stayed {body['status']}"
        time.sleep(0.2)


def verify(received) -> dict:
    """What a receiver does (README's snippet): check the signature, then parse."""
    timestamp = received.headers["X-Dancepose-Timestamp"]
    signed = timestamp.encode() + b"." + received.body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received.headers["X-Dancepose-Signature"])
    assert abs(time.time() - int(timestamp)) < 300
    return json.loads(received.body)


def accepted_comparison(response: requests.Response, status: int = 202) -> str:
    """The job id of a ``POST /comparisons`` answer, its shape checked."""
    return accepted(response, status, kind="comparisons")


def poll_comparison(
    url: str,
    job_id: str,
    until: Callable[[dict], bool] = lambda body: body["status"] in FINAL,
    timeout: float = 240,
) -> dict:
    """``GET /comparisons/{id}`` until ``until(body)``: ``poll`` with more time (two videos)."""
    return poll(url, job_id, until, timeout, kind="comparisons")
