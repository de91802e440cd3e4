"""Checking real HTTP responses against the service's OpenAPI document."""

from __future__ import annotations

from typing import Any

import requests
from openapi_schema_validator import OAS31Validator


def assert_documented(document: dict[str, Any], path: str, method: str, response: requests.Response) -> None:
    """The response's status is documented for the operation; a JSON body
    validates against the documented schema (strictly: the models forbid
    unknown fields); an error's ``code`` is named in the status's
    description; a non-JSON body has the documented media type.

    Args:
        document: the OpenAPI document.
        path: the path template, e.g. ``/progress/{progress_id}``.
        method: lower-case HTTP method.
        response: what the server answered.
    """
    operation = document["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: status {status} is not documented"
    documented = operation["responses"][status]
    media_type = response.headers["Content-Type"].split(";")[0]
    assert media_type in documented.get("content", {}), (
        f"{method} {path} {status}: {media_type} is not documented ({list(documented.get('content', {}))})"
    )
    if media_type != "application/json":
        return
    body = response.json()
    schema = {**documented["content"][media_type]["schema"], "components": document["components"]}
    OAS31Validator(schema).validate(body)
    if response.status_code >= 400:
        code = body["error"]["code"]
        assert f"`{code}`" in documented["description"], (
            f"{method} {path} {status}: code {code!r} is not in {documented['description']!r}"
        )
