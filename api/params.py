"""Analysis options from request fields, validated."""

from __future__ import annotations

import math
from typing import Any

from analyzer import AnalysisOptions
from api.config import Config
from api.errors import ApiError


def _float_arg(args: Any, name: str, default: Any, *, positive: bool = False) -> Any:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ApiError(400, "bad_parameter", f"{name} must be a finite number {bound}, got {value!r}")
    return number


def parse_options(args: Any, config: Config) -> AnalysisOptions:
    """Analysis options from query or form fields: ``poses`` (comma-separated),
    ``include`` (``frames``), ``smoothing_ms``, ``min_segment_ms``,
    ``sample_fps`` (default ``config.sample_fps``)."""
    poses = args.get("poses")
    include = {part.strip() for part in (args.get("include") or "").split(",") if part.strip()}
    if include - {"frames"}:
        raise ApiError(400, "bad_parameter", "include accepts only 'frames'")
    defaults = AnalysisOptions()
    return AnalysisOptions(
        poses=tuple(poses.split(",")) if poses is not None else None,
        include_frames="frames" in include,
        smoothing_ms=_float_arg(args, "smoothing_ms", defaults.smoothing_ms),
        min_segment_ms=_float_arg(args, "min_segment_ms", defaults.min_segment_ms),
        sample_fps=_float_arg(args, "sample_fps", config.sample_fps, positive=True),
    )
