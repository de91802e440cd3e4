"""Load test: N clients upload videos while one client probes ``/health``.

Run by ``infra/load-test.sh`` (``make load``) against a local server, or by
hand against any deployment::

    locust -f infra/locustfile.py --headless -u 7 -r 7 -t 60s --host http://127.0.0.1:8080

Environment: ``LOAD_VIDEO`` (the file to upload), ``LOAD_API_KEY`` (sent as
``X-API-Key`` when set). Uploads answered 503 (busy) or 429 (rate limit) are
the service protecting itself, not failures; they are counted in the status
mix printed at the end with locust's own percentiles.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, constant, events, task

VIDEO = Path(os.environ.get("LOAD_VIDEO", "../shared/videos/arm_raise_jumps_phone_portrait_352x640.mp4"))
HEADERS = {"X-API-Key": os.environ["LOAD_API_KEY"]} if os.environ.get("LOAD_API_KEY") else {}
EXPECTED = {200, 429, 503}
statuses: Counter[tuple[str, int]] = Counter()


@events.request.add_listener
def count_status(request_type: str, name: str, response, **_: object) -> None:
    """Tally the status code of every request by endpoint."""
    statuses[(name, getattr(response, "status_code", 0))] += 1


@events.quitting.add_listener
def print_status_mix(environment, **_: object) -> None:
    """Print the status mix next to locust's summary."""
    print("\nstatus mix:")
    for (name, status), count in sorted(statuses.items()):
        print(f"  {name} {status}: {count}")


class Uploader(HttpUser):
    """A client that uploads a video, waits for the JSON, and does it again."""

    weight = 6
    wait_time = between(0.5, 1.5)

    @task
    def analyze(self) -> None:
        with (
            VIDEO.open("rb") as handle,
            self.client.post(
                "/analyze",
                files={"video": (VIDEO.name, handle)},
                headers=HEADERS,
                name="/analyze",
                catch_response=True,
                timeout=600,
            ) as response,
        ):
            if response.status_code in EXPECTED:
                response.success()
            else:
                response.failure(f"status {response.status_code}")


class HealthProbe(HttpUser):
    """The load balancer: ``GET /health`` five times a second."""

    weight = 1
    fixed_count = 1
    wait_time = constant(0.2)

    @task
    def health(self) -> None:
        self.client.get("/health", name="/health", timeout=5)
