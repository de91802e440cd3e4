"""Request fields of ``POST /analyze`` and ``POST /analyses``, validated with
the contract's model (``api.schemas.AnalyzeOptions``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from api.errors import ApiError
from api.schemas import AnalyzeOptions


def validation_message(error: ValidationError) -> str:
    """One line per invalid field: ``name: what is wrong, got 'value'``."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"])
        what = str(item["ctx"]["error"]) if item["type"] == "value_error" else item["msg"]
        lines.append(f"{name}: {what[0].lower()}{what[1:]}, got {item['input']!r}")
    return "; ".join(lines)


def parse_fields(values: Mapping[str, str]) -> AnalyzeOptions:
    """Validate the request's fields (query parameters and form fields as
    one mapping, such as ``request.values``; unknown names are ignored).

    Raises:
        ApiError: 400 ``bad_parameter`` naming each invalid field.
    """
    given = {name: values[name] for name in AnalyzeOptions.model_fields if name in values}
    try:
        return AnalyzeOptions.model_validate(given)
    except ValidationError as exc:
        raise ApiError(400, "bad_parameter", validation_message(exc)) from None


def wants_frames(fields: AnalyzeOptions) -> bool:
    """Whether the response keeps ``frames`` (``include=frames``)."""
    return "frames" in {part.strip() for part in (fields.include or "").split(",")}
