"""dancepose HTTP service: a thin Flask app over ``analyzer``.

``create_app(test_config)`` is the app factory; ``server:app`` is what
gunicorn serves (``gunicorn -c gunicorn.conf.py server:app``). Landmarks are
computed in the ``LandmarkPool``'s worker processes; this process only
streams the upload to disk, waits (cooperatively under gevent) and turns the
result into JSON, so ``/health`` keeps answering during analyses. The HTTP
pieces live in ``api/``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from analyzer import LandmarkPool
from api.config import Config
from api.errors import register_errors
from api.routes import bp


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    Args:
        test_config: Flask config overrides; ``DANCEPOSE`` may hold a
            ``Config`` to use instead of the environment's.
    """
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the contract's field order
    app.config["DANCEPOSE"] = Config()
    app.config.update(test_config or {})
    config: Config = app.config["DANCEPOSE"]
    app.config["MAX_CONTENT_LENGTH"] = int(config.max_upload_mb * 1024 * 1024)
    app.extensions["dancepose.pool"] = LandmarkPool(config.workers)
    app.register_blueprint(bp)
    register_errors(app)
    return app


app = create_app()
