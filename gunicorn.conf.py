"""Gunicorn settings for dancepose (``gunicorn -c gunicorn.conf.py server:app``).

One gevent worker process serves every connection; the CPU-heavy landmark
work runs in that worker's ``LandmarkPool`` processes (one per core), so the
whole server shares one pool and the event loop only waits on pipes.
"""

import os
import threading

from api.logs import LOGCONFIG

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


def post_worker_init(worker):
    """Start the landmark workers in the background so the model is loaded
    before the first upload (``/health`` answers meanwhile)."""
    pool = worker.wsgi.extensions["dancepose.pool"]

    def warm() -> None:
        try:
            pool.start()
        except Exception:
            worker.log.exception("could not start the landmark workers")

    threading.Thread(target=warm, daemon=True).start()


def worker_exit(server, worker):
    """Stop idle landmark workers when the gunicorn worker exits."""
    worker.wsgi.extensions["dancepose.pool"].close()
