"""Large results: ``GET /analyses/{id}`` carries a job's result inline up
to ``RESULT_INLINE_MAX_BYTES`` and, for every succeeded job, a
``result_url``: a short-lived presigned S3 GET URL when results live in S3
(``JOB_BACKEND=aws``), else (or with ``RESULTS_VIA_API=1``) the path of
``GET /analyses/{id}/result``, which streams the stored JSON through the API.

Why a field of the job rather than only a redirecting endpoint: a client
polls one URL and finds there the result, or where to fetch it; a result
with ``frames`` can be tens of MB, which the API then neither reads nor
sends on every poll.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import current_app, url_for

from api.config import Config
from api.submit import jobs
from jobs.aws.s3 import S3ObjectStore
from jobs.records import Job

#: How long a presigned result URL may be used, in s (poll the job again for a new one).
RESULT_URL_EXPIRES_S = 300
#: Bytes sent per chunk when a result is streamed.
CHUNK_BYTES = 64 * 1024


def result_fields(job: Job) -> tuple[bytes | None, tuple[str, float] | None]:
    """A job's ``result`` and ``result_url``.

    Returns:
        The stored result JSON (``None`` when larger than
        ``RESULT_INLINE_MAX_BYTES``), and the URL to fetch it from with its
        expiry (Unix time, s); both ``None`` when the job has no stored result.
    """
    size = jobs().result_size(job)
    if size is None or job.result_key is None:
        return None, None
    config: Config = current_app.config["DANCEPOSE"]
    store = jobs().backends.results
    if isinstance(store, S3ObjectStore) and not config.results_via_api:
        expires_at = min(time.time() + RESULT_URL_EXPIRES_S, job.expires_at)
        url = store.presigned_get(job.result_key, max(1, int(expires_at - time.time())))
    else:
        url, expires_at = url_for("analyses.get_result", job_id=job.id), job.expires_at
    inline = jobs().result(job) if size <= config.result_inline_max_bytes else None
    return inline, (url, expires_at)


def result_stream(job: Job) -> Iterator[bytes] | None:
    """A job's stored result JSON, ``CHUNK_BYTES`` at a time (the object is
    closed at the end), or ``None`` when it has none."""
    stream = None if job.result_key is None else jobs().backends.results.open(job.result_key)
    return None if stream is None else _chunks(stream)


def _chunks(stream: Any) -> Iterator[bytes]:
    try:
        yield from iter(lambda: stream.read(CHUNK_BYTES), b"")
    finally:
        stream.close()
