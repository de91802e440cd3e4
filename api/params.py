"""Request fields of ``POST /analyze`` and ``POST /analyses``, validated with
the contract's model (``api.schemas.AnalyzeOptions``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from api.errors import ApiError
from api.schemas import AnalyzeOptions

#: The options model of an endpoint (``AnalyzeOptions``, ``CompareOptions``).
Options = TypeVar("Options", bound=BaseModel)


def validation_message(error: ValidationError) -> str:
    """One line per invalid field: ``name: what is wrong, got 'value'``."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"])
        what = str(item["ctx"]["error"]) if item["type"] == "value_error" else item["msg"]
        lines.append(f"{name}: {what[0].lower()}{what[1:]}, got {item['input']!r}")
    return "; ".join(lines)


def parse_fields(
    *sources: Mapping[str, str],
    model: type[Options] = AnalyzeOptions,
    files: Mapping[str, object] | None = None,
    check: Callable[[Options], object] | None = None,
) -> Options:
    """Validate the request's fields with ``model``: query parameters and
    form fields (``request.args``, ``request.form``), first to last by
    precedence; unknown names are ignored.

    Each source is validated on its own before they are merged, so an
    invalid field is refused even where another source overrides it (a
    form field of -1 under a valid query parameter of the same name was
    accepted as if the document allowed it).

    A field given more than once in one source is refused too: which of
    the values counts would be a guess (``make fuzz`` sent a repeated
    ``sample_fps`` whose first value was valid). So is an option sent as a
    file part of the form (``files``, ``request.files``: a part with a
    file name), which the form fields do not show and so was ignored
    whatever it held (``make fuzz`` sent a ``progress_id`` so).

    ``check`` is run on each source's options too, for the rules no schema
    states (the registered pose names): ``make fuzz`` sent a form field
    ``poses=false`` under a query parameter of registered names, and it
    was never read.

    Raises:
        ApiError: 400 ``bad_parameter`` naming each invalid field.
        Exception: what ``check`` raises.
    """
    repeated = [
        name
        for source in sources
        if isinstance(source, MultiDict)
        for name in model.model_fields
        if len(source.getlist(name)) > 1
    ]
    repeated += [name for name in model.model_fields if files is not None and name in files]
    if repeated:
        raise ApiError(
            400,
            "bad_parameter",
            "; ".join(f"{name}: give it once, as a form field or query parameter" for name in repeated),
        )
    given = [{name: source[name] for name in model.model_fields if name in source} for source in sources]
    merged: dict[str, str] = {}
    try:
        for fields in reversed(given):
            options = model.model_validate(fields)
            if check is not None:
                check(options)
            merged.update(fields)
        return model.model_validate(merged)
    except ValidationError as exc:
        raise ApiError(400, "bad_parameter", validation_message(exc)) from None


def wants_frames(fields: AnalyzeOptions) -> bool:
    """Whether the response keeps ``frames`` (``include=frames``)."""
    return "frames" in {part.strip() for part in (fields.include or "").split(",")}
