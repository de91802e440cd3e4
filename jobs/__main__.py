"""The job worker as its own process: ``python -m jobs [--parent PID]``.

gunicorn starts one beside the API (``gunicorn.conf.py``, unless
``JOB_WORKER=0``) with ``--parent``: the worker then exits when that process
is gone, as the API's own workers do. A deployment can instead run it as a
separate service with the same settings. SIGTERM or SIGINT stop it taking
jobs; the running ones get ``GRACEFUL_TIMEOUT_S`` to finish (past it, their
leases run out and another worker runs them again).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from pythonjsonlogger.json import JsonFormatter

from analyzer import LandmarkPool
from jobs.aws.protection import TaskProtection
from jobs.settings import JobSettings
from jobs.worker import JobWorker

log = logging.getLogger("jobs")

#: How often the worker checks that its parent process lives, in s.
PARENT_CHECK_S = 0.5


def main(argv: list[str] | None = None) -> None:
    """Run a job worker until SIGTERM, SIGINT or its parent's death."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parent", type=int, help="exit when the process with this pid is gone")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper(), handlers=[handler])

    settings = JobSettings()
    backends = settings.backends()
    backends.results.create()
    pool = LandmarkPool(settings.workers)
    # On ECS (which sets ECS_AGENT_URI), scale-in never stops a task running a job.
    agent = os.environ.get("ECS_AGENT_URI")
    protection = TaskProtection(agent) if agent else None
    worker = JobWorker(backends, settings, pool, settings.annotated_store(), on_busy=protection)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.parent is not None:
        watch_parent(args.parent, stop)
    threading.Thread(target=warm, args=(pool,), daemon=True).start()
    log.info(
        "job worker started: %d landmark workers, %d jobs at once", settings.workers, settings.concurrency
    )
    try:
        worker.run(stop, drain_s=float(os.environ.get("GRACEFUL_TIMEOUT_S") or 120))
    finally:
        pool.close()
    log.info("job worker stopped")


def warm(pool: LandmarkPool) -> None:
    """Start the landmark workers so that the model is loaded before the first job."""
    try:
        pool.start()
    except Exception:
        log.exception("could not start the landmark workers")


def watch_parent(parent: int, stop: threading.Event) -> None:
    """Exit at once when ``parent`` is gone (it was killed): the jobs running
    here are left to their leases, as if this process had been killed too."""

    def watch() -> None:
        while not stop.wait(PARENT_CHECK_S):
            if os.getppid() != parent:
                log.warning("parent process %d is gone; exiting", parent)
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    main()
