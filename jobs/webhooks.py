"""Webhooks: when a job with a ``callback_url`` ends, POST
``{"id", "status", "event"}`` to it, signed; ``event`` is
``analysis.finished`` or ``comparison.finished``, as the job's kind.

Signature: ``X-Dancepose-Signature`` is the hex HMAC-SHA256 of
``"{timestamp}.{body}"`` keyed with ``WEBHOOK_SECRET``, where
``X-Dancepose-Timestamp`` is the Unix time in seconds of the attempt and
body the exact bytes sent (the scheme Stripe documents for its webhooks:
the timestamp inside the signed text lets a receiver refuse replays).

Retries (tenacity): on a timeout, a connection error or a 5xx, with
exponential backoff and jitter, for up to ``WEBHOOK_RETRY_S``; never on a
2xx, 3xx (redirects are not followed) or 4xx answer.

Server-side request forgery: a callback URL must be ``https://`` (unless
``WEBHOOK_ALLOW_HTTP``) and every address its host resolves to must be
public: loopback, private (RFC 1918, RFC 4193), link-local (the EC2
metadata service at 169.254.169.254), multicast, reserved and unspecified
addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE``. The check runs at
submission and again before every attempt (a host can change its DNS), and
each attempt's connection checks the address it actually reached
(``jobs.public_http``), so a host that answers DNS differently for the check
and for the connection (DNS rebinding) is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import requests
import tenacity

from jobs.public_http import NonPublicAddress, check_public, public_session

log = logging.getLogger("jobs.webhooks")

#: Longest wait between two attempts, in s.
MAX_BACKOFF_S = 300.0
#: The event a webhook reports, ``<kind>.finished``.
EVENT = "{kind}.finished"


class CallbackRefused(ValueError):
    """A callback URL that may not be called (scheme, host or address)."""


def check_callback_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Check that ``url`` may be called back.

    Raises:
        CallbackRefused: not ``https://`` (nor allowed ``http://``), no
            host, a host that does not resolve, or an address that is not
            public (see the module's docstring).
    """
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes:
        raise CallbackRefused(f"callback_url must be an {' or '.join(sorted(schemes))} URL")
    if not parts.hostname or parts.username or parts.password:
        raise CallbackRefused("callback_url must name a host, without credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise CallbackRefused(f"callback_url's host cannot be resolved: {exc}") from None
    if allow_private:
        return
    for info in infos:
        try:
            check_public(info[4][0])
        except NonPublicAddress:
            raise CallbackRefused(
                "callback_url resolves to a loopback, private, link-local or reserved address"
            ) from None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed with ``secret``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(job_id: str, status: str, kind: str = "analysis") -> bytes:
    """The webhook's body; ``kind`` is the job's (``jobs.records.JobKind``)."""
    body = {"id": job_id, "status": status, "event": EVENT.format(kind=kind)}
    return json.dumps(body, separators=(",", ":")).encode()


class RetryableResponse(Exception):
    """A webhook answer worth retrying (5xx)."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableResponse | requests.Timeout | requests.ConnectionError)


def deliver(
    url: str,
    body: bytes,
    *,
    secret: str,
    allow_http: bool,
    allow_private: bool,
    retry_s: float,
    backoff_s: float,
    timeout_s: float,
) -> bool:
    """POST a signed webhook, retrying as the module's docstring says. Blocks
    for up to ``retry_s`` seconds (run it in a thread).

    Returns:
        Whether the receiver answered 2xx.
    """

    session = requests.Session() if allow_private else public_session()

    @tenacity.retry(
        retry=tenacity.retry_if_exception(_retryable),
        wait=tenacity.wait_random_exponential(multiplier=backoff_s, max=MAX_BACKOFF_S),
        stop=tenacity.stop_after_delay(retry_s),
        reraise=True,
    )
    def attempt() -> int:
        check_callback_url(url, allow_http=allow_http, allow_private=allow_private)
        timestamp = str(int(time.time()))
        try:
            response = session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "dancepose-webhook",
                    "X-Dancepose-Timestamp": timestamp,
                    "X-Dancepose-Signature": signature(secret, timestamp, body),
                },
                timeout=timeout_s,
                allow_redirects=False,
            )
        except NonPublicAddress as exc:
            raise CallbackRefused(f"callback_url connected to {exc}") from None
        if response.status_code >= 500:
            raise RetryableResponse(f"{response.status_code} from the receiver")
        return response.status_code

    try:
        status = attempt()
    except (RetryableResponse, requests.RequestException, CallbackRefused) as exc:
        log.warning("webhook to %s failed for good: %s", url, exc)
        return False
    finally:
        session.close()
    if not 200 <= status < 300:
        log.warning("webhook to %s answered %d; not retried", url, status)
    return 200 <= status < 300
