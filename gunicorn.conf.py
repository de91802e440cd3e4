"""Gunicorn settings for dancepose (``gunicorn -c gunicorn.conf.py server:app``).

One gevent worker process serves every connection and never analyzes: each
analysis and each comparison is a job, run by the job worker process (``python -m jobs``) that
the master starts beside it, on its ``LandmarkPool`` processes (one per
core). So ``make run`` serves the API and runs the jobs, in separate
processes that a deployment can also run as separate services.
"""

import functools
import os
import subprocess
import sys

from api.logs import LOGCONFIG
from jobs.settings import JobSettings

#: Niceness added to the job worker that runs beside the API (its landmark
#: processes inherit it; ``JOB_WORKER_NICE``, default 10, 0 for none): on a
#: shared machine the CPU-bound landmarker yields to the API's event loop, so
#: /health and short requests answer while every core analyzes (``python -m
#: jobs.bench`` measures both). A worker run as its own service is not affected.
JOB_WORKER_NICE = int(os.environ.get("JOB_WORKER_NICE") or 10)

#: The job worker process this master started (``when_ready``), under "jobs".
_children: dict[str, subprocess.Popen] = {}

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
#: gunicorn's gevent worker, answering the requests gunicorn refuses itself
#: (request line over 4094 bytes, oversized headers, bad HTTP) with the JSON
#: error envelope instead of HTML.
worker_class = "api.gunicorn_worker.EnvelopeGeventWorker"
workers = 1
worker_connections = 100
#: Seconds a request may run before gunicorn restarts the worker: above the
#: analysis limit (ANALYSIS_TIMEOUT_S) plus the upload and queue waits.
timeout = int(float(os.environ.get("ANALYSIS_TIMEOUT_S", "300"))) + 120
#: Seconds to finish in-flight requests after SIGTERM.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT_S", "120"))
#: Keep-alive must outlast the load balancer's idle timeout, or the ALB
#: reuses connections gunicorn has closed (random 502s).
keepalive = int(os.environ.get("KEEPALIVE_S", "620"))
#: No control socket: it defaults to ~/.gunicorn, shared by every gunicorn on
#: the host and not writable on a read-only root file system.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
#: JSON lines on stdout (api/logs.py); access lines carry the request ID.
logconfig_dict = LOGCONFIG
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'


def when_ready(server):
    """Start the job worker (``python -m jobs``) beside the API, unless
    ``JOB_WORKER=0`` (a deployment that runs it as its own service). It is
    a child of this master process, not of a gunicorn worker, and exits
    when the master is gone (``--parent``). It runs at ``JOB_WORKER_NICE``
    (set before it starts, so its landmark processes are born with it)."""
    if JobSettings().embedded_worker:
        child = subprocess.Popen(
            [sys.executable, "-m", "jobs", "--parent", str(os.getpid())],
            # The master has no threads when it is ready, which preexec_fn needs.
            preexec_fn=functools.partial(os.nice, JOB_WORKER_NICE),  # noqa: PLW1509
        )
        _children["jobs"] = child
        server.log.info("job worker started (pid %d)", child.pid)


def on_exit(server):
    """Stop the job worker once the API's workers have stopped: SIGTERM lets
    its running jobs finish within ``graceful_timeout``, then it is killed
    (jobs it still held run again when their leases end)."""
    child = _children.pop("jobs", None)
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=graceful_timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
