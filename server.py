"""dancepose HTTP service: a thin Flask app over ``analyzer``.

``create_app(test_config)`` is the app factory; ``server:app`` is what
gunicorn serves (``gunicorn -c gunicorn.conf.py server:app``). Analyses are
jobs (``jobs/``) that a separate worker process runs on its landmark
processes (gunicorn starts one beside this app, see ``gunicorn.conf.py``);
this process only streams uploads to disk, queues jobs, waits
(cooperatively under gevent) and answers stored JSON, so ``/health`` keeps
answering during analyses. Comparisons are jobs too (``POST /compare``
waits for one), so this process has no ``LandmarkPool`` and never loads
the landmarker. The HTTP pieces live in ``api/``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from api import (
    admission,
    analyses,
    annotated,
    compare,
    comparisons,
    direct,
    logs,
    openapi,
    poses,
    progress,
    security,
    web,
)
from api.config import Config
from api.errors import register_errors
from api.finite_json import FiniteJSONProvider
from api.routes import bp
from jobs.service import JobService


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    Args:
        test_config: Flask config overrides; ``DANCEPOSE`` may hold a
            ``Config`` to use instead of the environment's.
    """
    app = Flask(__name__)
    app.json = FiniteJSONProvider(app)  # never NaN or Infinity in a body
    app.json.sort_keys = False  # keep the contract's field order
    app.config["DANCEPOSE"] = Config()
    app.config.update(test_config or {})
    config: Config = app.config["DANCEPOSE"]
    app.config["MAX_CONTENT_LENGTH"] = int(config.max_upload_mb * 1024 * 1024)
    # before_request order: request ID, API key and rate limit, then admission.
    logs.init_app(app)
    app.extensions["dancepose.limiter"] = security.init_app(app, config)
    admission.init_app(app, config)
    annotated_store = config.jobs.annotated_store()
    app.extensions["dancepose.annotated"] = annotated_store
    app.extensions["dancepose.jobs"] = JobService(config.jobs.backends(), config.jobs, annotated_store)
    app.register_blueprint(bp)
    app.extensions["dancepose.progress"] = progress.ProgressBoard()
    for blueprint in (progress.bp, annotated.bp, analyses.bp, direct.bp, openapi.bp, web.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(poses.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(comparisons.bp)
    register_errors(app)
    return app


app = create_app()
