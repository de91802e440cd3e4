"""ECS task scale-in protection while a worker runs jobs.

A worker service scaled on queue backlog would otherwise lose running jobs
on every scale-in. The ECS agent of each task serves
``$ECS_AGENT_URI/task-protection/v1/state``: a ``PUT`` with
``{"ProtectionEnabled": true, "ExpiresInMinutes": n}`` keeps the service
scheduler from stopping the task on scale-in until protection is turned
off or expires (Amazon ECS developer guide, "Protect your Amazon ECS tasks
from being terminated by scale-in events"). ECS sets ``ECS_AGENT_URI`` in
every task; elsewhere there is nothing to protect.
"""

from __future__ import annotations

import logging
import threading

import requests

log = logging.getLogger("jobs.protection")

#: Path of the ECS agent's task-protection endpoint under ``ECS_AGENT_URI``.
PATH = "/task-protection/v1/state"


class TaskProtection:
    """Protects the task while at least one job runs (``JobWorker``'s ``on_busy``).

    Args:
        agent_uri: ``ECS_AGENT_URI``.
        expires_minutes: how long one protection lasts if never turned off
            (a hung worker does not block scale-in for ever), in minutes.
        timeout_s: time limit of one request to the agent, in s.
    """

    def __init__(self, agent_uri: str, expires_minutes: int = 60, timeout_s: float = 5.0) -> None:
        self.url = agent_uri.rstrip("/") + PATH
        self.expires_minutes, self.timeout_s = expires_minutes, timeout_s
        self._lock = threading.Lock()

    def __call__(self, busy: bool) -> None:
        """Turn protection on (``busy``) or off. A failure is logged, not
        raised: the job runs either way, and SQS gives it to another worker
        if this task is stopped."""
        body: dict[str, object] = {"ProtectionEnabled": busy}
        if busy:
            body["ExpiresInMinutes"] = self.expires_minutes
        with self._lock:
            try:
                response = requests.put(self.url, json=body, timeout=self.timeout_s)
                response.raise_for_status()
            except requests.RequestException as exc:
                log.warning("could not set task protection to %s: %s", busy, exc)
