"""Pose detectors. Importing this package registers every detector module in it."""

import importlib
import pkgutil

from analyzer.poses.detectors.registry import (
    HIT_SCORE,
    Detector,
    available,
    get_detectors,
    register,
    register_detector,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["HIT_SCORE", "Detector", "available", "get_detectors", "register", "register_detector"]
