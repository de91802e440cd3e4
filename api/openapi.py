"""The OpenAPI 3.1 document at ``/openapi.json`` and interactive docs at ``/docs``.

``spec`` (spectree) builds the document from the pydantic models of
``api.schemas`` and the views decorated with ``@spec.validate(...)``. To put
a JSON endpoint in it, decorate its view under the Flask route decorator::

    @bp.get("/poses")
    @spec.validate(resp=responses(PosesResponse), tags=["poses"], operation_id="poses")
    def poses(): ...

The first line of the view's docstring is the summary, the rest the
description. spectree validates a JSON response against its model before
it leaves (a mismatch is logged and answered as the 500 envelope).
``POST /analyze`` has ``skip_validation=True``: it validates its own input
(``api.params``: options may arrive as query parameters or form fields,
which spectree would check one place at a time), and its response, up to
megabytes of landmarks, is checked by the tests instead.

spectree reads the body of every response of the views it wraps, which a
streamed file cannot give, and documents JSON models only; views that
answer a file (a page, a video) or a document without a model use
``@file_view(...)`` instead, which documents them the same way.

What an operation says beyond its models (a multipart part's ``encoding``,
a response's ``links``) goes in ``@amend({...})``; the errors gunicorn
answers before Flask (``BEFORE_FLASK``) are added to every operation.

``/docs`` is Swagger UI from the ``offapi`` package (spectree's offline
extra), served as files from this process: no CDN.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import offapi
from flask import Blueprint, Response, abort, current_app, jsonify, send_from_directory
from spectree import Response as Responses
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import InType, SecureType

from api.schemas import ErrorResponse

#: The project's version (pyproject.toml).
VERSION = "0.1.0"
#: Description of the 500 every endpoint can answer.
INTERNAL = "`internal`: an unexpected failure (never a stack trace)."
#: ``security`` of the endpoints behind the API key, which is needed only
#: when the server has ``API_KEYS`` (``api.security``), and their 401.
API_KEY = [{"ApiKey": []}, {}]
UNAUTHORIZED = "`unauthorized`: the server has `API_KEYS` and `X-API-Key` is missing or wrong."
#: Errors every operation can answer before Flask sees the request: gunicorn
#: refuses it, and ``api.gunicorn_worker`` answers with the envelope.
BEFORE_FLASK = {
    "400": "`bad_request`: not valid HTTP (gunicorn's parser refused the request line or a header).",
    "414": "`uri_too_long`: the request line (method, path and query string) is longer than "
    "4094 bytes (gunicorn's `limit_request_line`).",
    "431": "`request_header_fields_too_large`: more than 100 headers, or one longer than 8190 "
    "bytes (gunicorn's `limit_request_fields` and `limit_request_field_size`).",
}


def _refuse_invalid_response(_request: Any, _response: Any, error: Any, *_context: Any) -> None:
    """spectree's ``after`` hook: a JSON response that does not match its
    documented model is a bug; raising makes it the logged 500 ``internal``
    envelope instead of spectree's own error list."""
    if error is not None:
        raise RuntimeError(f"a response does not match the OpenAPI document: {error}")


spec = SpecTree(
    "flask",
    title="dancepose",
    version=VERSION,
    description="Pose classification for dance and fitness videos: upload a video, get per-frame "
    'poses, segments and a summary as JSON. Every error is `{"error": {"code", "message"}}`.',
    mode="strict",
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    # spectree adds a response for its own request-validation errors to each
    # operation unless one is declared; requests are validated in api.params,
    # so that slot holds the 500 envelope that every endpoint can answer.
    validation_error_status=500,
    validation_error_model=ErrorResponse,
    after=_refuse_invalid_response,
    security_schemes=[
        SecurityScheme(
            name="ApiKey",
            data=SecuritySchemeData(
                type=SecureType.API_KEY,
                name="X-API-Key",
                field_in=InType.HEADER,
                description="Needed only when the server is configured with `API_KEYS`.",
            ),
        )
    ],
)

#: Swagger UI files of the offapi package, by the name this service serves them under.
SWAGGER_UI = {"swagger-ui-bundle.js": "swagger_bundle.js", "swagger-ui.css": "swagger_style.css"}
SWAGGER_UI_DIR = Path(offapi.__file__).parent
STATIC = Path(__file__).parent / "static"

bp = Blueprint("docs", __name__)
View = TypeVar("View", bound=Callable[..., Any])


def responses(
    ok: type | tuple[type | None, str] | None = None, **others: str | tuple[type | None, str]
) -> Responses:
    """A spectree ``Response``: ``ok`` is the 200 body (a model, or
    ``(model, description)``); each ``HTTP_<status>`` keyword is either the
    description of an error envelope (list its codes) or ``(model, description)``.
    The 500 envelope is always included; ``ok=None`` documents no 200.
    """
    others.setdefault("HTTP_500", INTERNAL)
    return Responses(
        **({} if ok is None else {"HTTP_200": ok}),
        **{
            status: (ErrorResponse, other) if isinstance(other, str) else other
            for status, other in others.items()
        },
    )


@dataclass(frozen=True)
class FileOperation:
    """How ``file_view`` documents a view: see there."""

    media_type: str
    tags: tuple[str, ...]
    operation_id: str
    ranges: bool
    protected: bool
    parameters: dict[str, str]
    errors: dict[str, str]

    def operation(self, view: Callable[..., Any], arguments: set[str]) -> dict[str, Any]:
        """The OpenAPI operation of a GET on the view's rule."""
        summary, _, description = (view.__doc__ or "").strip().partition("\n")
        if self.media_type.endswith("json"):
            schema: dict[str, str] = {"type": "object"}
        elif self.media_type.startswith("text/"):
            schema = {"type": "string"}
        else:
            schema = {"type": "string", "format": "binary"}
        body = {"content": {self.media_type: {"schema": schema}}}
        answers = {"200": {"description": "OK", **body}}
        if self.ranges:
            answers["206"] = {"description": "The byte range asked for with `Range`.", **body}
        errors = {"HTTP_401": UNAUTHORIZED} if self.protected else {}
        for status, text in {**errors, **self.errors, "HTTP_500": INTERNAL}.items():
            answers[status.removeprefix("HTTP_")] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            }
        return {
            **({"security": API_KEY} if self.protected else {}),
            "summary": summary.strip(),
            "description": " ".join(description.split()),
            "operationId": self.operation_id,
            "tags": list(self.tags),
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                | ({"description": self.parameters[name]} if name in self.parameters else {})
                for name in sorted(arguments)
            ],
            "responses": answers,
        }


def file_view(
    media_type: str,
    *,
    tags: list[str],
    operation_id: str,
    ranges: bool = False,
    protected: bool = False,
    parameters: dict[str, str] | None = None,
    **errors: str,
) -> Callable[[View], View]:
    """Document a GET view whose body has no model: a file (a page, a
    video) or a document (this OpenAPI one) of ``media_type``.

    Args:
        media_type: what the 200 body is, e.g. ``video/mp4``.
        tags: OpenAPI tags.
        operation_id: the operation's unique id.
        ranges: it answers ``Range`` requests with 206.
        protected: it is behind the API key (``API_KEY``; adds the 401).
        parameters: descriptions of the rule's path variables.
        errors: ``HTTP_<status>`` -> description of an error envelope (list its codes).
    """
    documented = FileOperation(
        media_type, tuple(tags), operation_id, ranges, protected, parameters or {}, errors
    )

    def mark(view: View) -> View:
        view.file_operation = documented  # type: ignore[attr-defined]
        return view

    return mark


def amend(changes: dict[str, Any]) -> Callable[[View], View]:
    """Add to a view's operation in the document what spectree cannot say
    (a multipart part's ``encoding``, a response's ``links``): ``changes``
    is merged into the operation, dict by dict. Put it under the route
    decorator, above ``@spec.validate``."""

    def mark(view: View) -> View:
        view.openapi_amendment = changes  # type: ignore[attr-defined]
        return view

    return mark


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``target``: dicts key by key, anything else replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def document() -> dict[str, Any]:
    """The OpenAPI document of the current app. spectree builds it once per
    process from the first app that asks (every ``create_app`` registers the
    same routes); views that answer files, the ``amend`` of views, and the
    errors answered before Flask (``BEFORE_FLASK``) are added to a copy per app."""
    cached = current_app.extensions.get("dancepose.openapi")
    if cached is None:
        cached = copy.deepcopy(spec.spec)
        for rule in current_app.url_map.iter_rules():
            view = current_app.view_functions[rule.endpoint]
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
            documented = getattr(view, "file_operation", None)
            if documented is not None:
                cached["paths"].setdefault(path, {})["get"] = documented.operation(view, rule.arguments)
                for tag in documented.tags:
                    if {"name": tag} not in cached["tags"]:
                        cached["tags"].append({"name": tag})
            amendment = getattr(view, "openapi_amendment", None)
            if amendment is not None:
                for method in rule.methods - {"HEAD", "OPTIONS"}:
                    _merge(cached["paths"][path][method.lower()], amendment)
        envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for operations in cached["paths"].values():
            for operation in operations.values():
                for status, text in BEFORE_FLASK.items():
                    answer = operation["responses"].setdefault(
                        status, {"description": "", "content": copy.deepcopy(envelope)}
                    )
                    answer["description"] = f"{answer['description']} {text}".strip()
        current_app.extensions["dancepose.openapi"] = cached
    return cached


@bp.get("/openapi.json")
@file_view("application/json", tags=["documentation"], operation_id="openapi")
def openapi_json() -> Response:
    """This OpenAPI document."""
    return jsonify(document())


@bp.get("/docs")
@file_view("text/html", tags=["documentation"], operation_id="docs")
def docs() -> Response:
    """Interactive API documentation (Swagger UI, works offline)."""
    return send_from_directory(STATIC, "docs.html")


@bp.get("/docs/assets/<name>")
def swagger_ui_asset(name: str) -> Response:
    """A Swagger UI file (a static asset, not in the document)."""
    if name not in SWAGGER_UI:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIR, SWAGGER_UI[name])
