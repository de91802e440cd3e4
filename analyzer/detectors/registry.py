"""The detector registry: pose name -> detector.

A detector is a plain function that scores frames on their own::

    def score(landmarks: np.ndarray) -> np.ndarray

``landmarks`` is ``(..., 33, 4) float32`` in pixels (``analyzer.landmarks``):
one frame ``(33, 4)`` or a batch ``(n, 33, 4)``, scored frame by frame with
numpy broadcasting. The result, shaped ``(...)``, is a score in [0, 1] per
frame, where ``HIT_SCORE`` (0.5) and above is a hit (the frame matches the
pose's definition) and the distance from 0.5 says how clearly, or NaN where
the landmarks the pose depends on are not visible enough to judge (no hit).

Detectors register themselves with ``@register``; every module in
``analyzer/detectors/`` is imported when the package is, so adding a pose is
one new module (plus its tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from analyzer.errors import UnknownPoseError

ScoreFn = Callable[[np.ndarray], np.ndarray]

#: Score at or above which a frame is a hit.
HIT_SCORE = 0.5


@dataclass(frozen=True)
class Detector:
    """A registered pose detector.

    Attributes:
        name: the pose key used in the JSON output (``t_pose``).
        description: one sentence of what a person would see.
        score: the scoring function (see the module docstring).
    """

    name: str
    description: str
    score: ScoreFn

    def detect(self, landmarks: np.ndarray) -> float | None:
        """Judge one frame: its score if it is a hit, else ``None``.

        Args:
            landmarks: ``(33, 4) float32`` in pixels.
        """
        score = float(self.score(landmarks))
        return score if score >= HIT_SCORE else None


_REGISTRY: dict[str, Detector] = {}


def register(name: str, description: str) -> Callable[[ScoreFn], ScoreFn]:
    """Decorator that registers a scoring function under ``name``.

    Raises:
        ValueError: if ``name`` is already registered.
    """

    def decorator(fn: ScoreFn) -> ScoreFn:
        if name in _REGISTRY:
            raise ValueError(f"detector {name!r} is registered twice")
        _REGISTRY[name] = Detector(name=name, description=description, score=fn)
        return fn

    return decorator


def available() -> list[str]:
    """Names of all registered detectors, sorted."""
    return sorted(_REGISTRY)


def get_detectors(names: Iterable[str] | None = None) -> list[Detector]:
    """The detectors for ``names`` (all registered ones when ``None``), in
    the given order without duplicates.

    Raises:
        UnknownPoseError: a name is not registered; the message lists the
            valid names.
    """
    if names is None:
        return [_REGISTRY[name] for name in available()]
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    unknown = [name for name in chosen if name not in _REGISTRY]
    if unknown:
        raise UnknownPoseError(
            f"unknown pose(s): {', '.join(unknown)}; valid poses are: {', '.join(available())}"
        )
    if not chosen:
        raise UnknownPoseError(f"no pose given; valid poses are: {', '.join(available())}")
    return [_REGISTRY[name] for name in chosen]
