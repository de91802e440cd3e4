"""Webhook URL checks, signatures and retries (``jobs.webhooks``), against
a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from jobs import webhooks
from jobs.public_http import NonPublicAddress, public_session
from jobs.webhooks import CallbackRefused, check_callback_url, deliver, payload
from tests.webhook_receiver import WebhookReceiver

SECRET = "test-secret"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
    ],
)
def test_private_and_loopback_targets_are_refused(url: str) -> None:
    with pytest.raises(CallbackRefused, match="address"):
        check_callback_url(url, allow_http=False, allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://93.184.215.14/hook", "ftp://93.184.215.14/", "file:///etc/passwd", "https:///nohost"]
)
def test_only_https_urls_with_a_host(url: str) -> None:
    with pytest.raises(CallbackRefused):
        check_callback_url(url, allow_http=False, allow_private=False)


def test_public_https_and_allowed_settings_pass() -> None:
    check_callback_url("https://93.184.215.14/hook", allow_http=False, allow_private=False)
    check_callback_url("http://127.0.0.1:9/hook", allow_http=True, allow_private=True)
    with pytest.raises(CallbackRefused):
        check_callback_url("https://user:pw@93.184.215.14/", allow_http=False, allow_private=False)


def send(url: str, **overrides) -> bool:
    settings = dict(
        secret=SECRET,
        allow_http=True,
        allow_private=True,
        retry_s=20.0,
        backoff_s=0.05,
        timeout_s=5.0,
    )
    settings.update(overrides)
    return deliver(url, payload("job-1", "succeeded"), **settings)


def verify(received) -> dict:
    """What a receiver does: check the signature, then parse."""
    timestamp = received.headers["X-Dancepose-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received.headers["X-Dancepose-Signature"])
    assert abs(time.time() - int(timestamp)) < 60
    return json.loads(received.body)


def test_signed_body() -> None:
    with WebhookReceiver([200]) as hook:
        assert send(hook.url)
        (received,) = hook.wait_for(1, 5)
    assert verify(received) == {"id": "job-1", "status": "succeeded", "event": "analysis.finished"}
    assert received.headers["Content-Type"] == "application/json"


def test_retried_after_5xx_with_growing_waits() -> None:
    with WebhookReceiver([500, 503, 500, 200]) as hook:
        assert send(hook.url, backoff_s=0.1)
        received = hook.wait_for(4, 5)
    assert len(received) == 4
    for attempt in received:
        verify(attempt)


def test_never_retried_after_4xx() -> None:
    with WebhookReceiver([400, 200]) as hook:
        assert not send(hook.url)
        time.sleep(0.5)
        assert len(hook.received) == 1


def test_gives_up_after_the_retry_period() -> None:
    with WebhookReceiver([500]) as hook:
        started = time.monotonic()
        assert not send(hook.url, retry_s=1.0, backoff_s=0.05)
        assert time.monotonic() - started < 5
        assert len(hook.received) >= 2


def test_unreachable_receiver_is_retried_then_given_up() -> None:
    from tests.conftest import free_port

    started = time.monotonic()
    assert not send(f"http://127.0.0.1:{free_port()}/hook", retry_s=0.5)
    assert time.monotonic() - started < 5


def test_refused_target_is_not_called() -> None:
    with WebhookReceiver([200]) as hook:
        assert not send(hook.url, allow_private=False)
        time.sleep(0.2)
        assert hook.received == []


def test_a_connection_to_a_private_peer_sends_nothing() -> None:
    """The session webhooks use checks the address it connected to."""
    with WebhookReceiver([200]) as hook:
        with public_session() as session, pytest.raises(NonPublicAddress, match="127.0.0.1"):
            session.post(hook.url, data=b"{}", timeout=5)
        time.sleep(0.2)
        assert hook.received == []


def test_dns_rebinding_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host whose DNS answered a public address to the URL check and
    answers loopback to the connection (DNS rebinding; here the check is
    made to pass, as a public answer would) gets nothing: the address the
    connection reached is checked again."""
    monkeypatch.setattr(webhooks, "check_callback_url", lambda *args, **kwargs: None)
    with WebhookReceiver([200]) as hook:
        assert not send(hook.url.replace("127.0.0.1", "localhost"), allow_private=False)
        time.sleep(0.2)
        assert hook.received == []
