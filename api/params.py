"""Request fields of ``POST /analyze``, validated with the contract's model
(``api.schemas.AnalyzeOptions``), and the analysis options they make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from analyzer import AnalysisOptions
from analyzer.errors import PoseDefinitionError
from analyzer.poses.definitions import parse_selection
from analyzer.poses.detectors import Detector, get_detectors
from api.config import Config
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


def parse_fields(*sources: Mapping[str, str], model: type[Options] = AnalyzeOptions) -> Options:
    """Validate the request's fields with ``model``: query parameters and
    form fields (``request.args``, ``request.form``), first to last by
    precedence; unknown names are ignored.

    Each source is validated on its own before they are merged, so an
    invalid field is refused even where another source overrides it (a
    form field of -1 under a valid query parameter of the same name was
    accepted as if the document allowed it).

    Raises:
        ApiError: 400 ``bad_parameter`` naming each invalid field.
    """
    given = [{name: source[name] for name in model.model_fields if name in source} for source in sources]
    merged: dict[str, str] = {}
    try:
        for fields in reversed(given):
            model.model_validate(fields)
            merged.update(fields)
        return model.model_validate(merged)
    except ValidationError as exc:
        raise ApiError(400, "bad_parameter", validation_message(exc)) from None


def analysis_options(fields: AnalyzeOptions, config: Config) -> AnalysisOptions:
    """The analysis the fields ask for; ``sample_fps`` defaults to
    ``config.sample_fps``. Frames are included for ``annotate`` too, which
    draws them."""
    defaults = AnalysisOptions()
    names, custom = requested_poses(fields.poses)
    return AnalysisOptions(
        poses=names,
        custom_poses=custom,
        include_frames=wants_frames(fields) or fields.annotate,
        smoothing_ms=defaults.smoothing_ms if fields.smoothing_ms is None else fields.smoothing_ms,
        min_segment_ms=defaults.min_segment_ms if fields.min_segment_ms is None else fields.min_segment_ms,
        sample_fps=config.sample_fps if fields.sample_fps is None else fields.sample_fps,
    )


def requested_poses(value: str | None) -> tuple[tuple[str, ...] | None, tuple[Detector, ...]]:
    """The ``poses`` field: comma-separated names, or JSON of pose names and
    definitions (``analyzer.poses.definitions.parse_selection``), checked now.

    Raises:
        ApiError: 400 ``invalid_pose_definition``, saying where the JSON is wrong.
        UnknownPoseError: a name is neither available nor defined in the request.
    """
    try:
        names, custom = parse_selection(value, "poses")
        get_detectors(names, extra=custom)
    except PoseDefinitionError as exc:
        raise ApiError(400, exc.code, str(exc)) from None
    return names, custom


def wants_frames(fields: AnalyzeOptions) -> bool:
    """Whether the response keeps ``frames`` (``include=frames``)."""
    return "frames" in {part.strip() for part in (fields.include or "").split(",")}
