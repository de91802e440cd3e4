"""The web page at ``/``: upload a video, watch the skeleton and the pose
timeline. Plain HTML, CSS and JavaScript in ``api/static/``, served as
files under ``/assets/``; the page talks to the API like any client."""

from __future__ import annotations

from flask import Blueprint, Response

from api.openapi import file_view

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/assets")


@bp.get("/")
@file_view("text/html", tags=["documentation"], operation_id="web_page")
def index() -> Response:
    """The web page: analyze a video and see its skeleton and pose timeline."""
    return bp.send_static_file("index.html")
