"""The detector registry: pose name -> detector.

A detector is a plain function that scores frames on their own::

    def score(landmarks: np.ndarray) -> np.ndarray

``landmarks`` is ``(..., 33, 7) float32``: x, y, z in pixels, visibility,
then the world landmarks in metres (``analyzer.landmarks.blazepose.to_pixels``;
a ``(..., 33, 4)`` array without them is accepted, and a measure in 3D then
cannot judge): one frame ``(33, 7)`` or a batch ``(n, 33, 7)``, scored frame
by frame with numpy broadcasting. The result, shaped ``(...)``, is a score in [0, 1] per
frame, where ``HIT_SCORE`` (0.5) and above is a hit (the frame matches the
pose's definition) and the distance from 0.5 says how clearly, or NaN where
the landmarks the pose depends on are not visible enough to judge (no hit).

Every built-in pose is a declarative definition (``analyzer/poses/library/*.json``)
that ``analyzer.poses.detectors.library`` compiles (``analyzer.poses.definitions``) and
registers with ``register_detector``, so adding a pose is one new JSON file
(plus its tests). A pose the format cannot express can still be a Python
function decorated with ``@register`` in a module of ``analyzer/poses/detectors/``
(every module there is imported when the package is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer.errors import PoseDefinitionError, UnknownPoseError

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
        definition: the declarative definition it was compiled from
            (``analyzer.poses.definitions``), or ``None`` for a Python detector.
    """

    name: str
    description: str
    score: ScoreFn
    definition: dict[str, Any] | None = None

    def detect(self, landmarks: np.ndarray) -> float | None:
        """Judge one frame: its score if it is a hit, else ``None``.

        Args:
            landmarks: ``(33, 7) float32``, pixels then world metres (see above).
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
        register_detector(Detector(name=name, description=description, score=fn))
        return fn

    return decorator


def register_detector(detector: Detector) -> None:
    """Register a detector (a compiled definition, or via ``register``).

    Registering the same definition again under its name does nothing, so
    loading a directory of definitions twice in one process is harmless.

    Raises:
        ValueError: another detector is already registered under the name.
    """
    existing = _REGISTRY.get(detector.name)
    if existing is not None:
        if existing.definition is not None and existing.definition == detector.definition:
            return
        raise ValueError(f"detector {detector.name!r} is registered twice")
    _REGISTRY[detector.name] = detector


def available() -> list[str]:
    """Names of all registered detectors, sorted."""
    return sorted(_REGISTRY)


def get_detectors(names: Iterable[str] | None = None, extra: Iterable[Detector] = ()) -> list[Detector]:
    """The detectors for ``names`` (all registered ones and ``extra`` when
    ``None``), in the given order without duplicates.

    Args:
        names: pose names to run, registered or in ``extra``.
        extra: detectors available to this call only (a request's own pose
            definitions), after the registered ones; their names must not
            be registered.

    Raises:
        UnknownPoseError: a name is not registered; the message lists the
            valid names.
        PoseDefinitionError: an ``extra`` detector reuses a registered name.
    """
    pool = dict(_REGISTRY)
    for detector in extra:
        if detector.name in pool:
            raise PoseDefinitionError(f"pose {detector.name!r} is already defined; choose another name")
        pool[detector.name] = detector
    valid = ", ".join(sorted(pool))
    if names is None:
        return [pool[name] for name in sorted(pool)]
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    unknown = [name for name in chosen if name not in pool]
    if unknown:
        raise UnknownPoseError(f"unknown pose(s): {', '.join(unknown)}; valid poses are: {valid}")
    if not chosen:
        raise UnknownPoseError(f"no pose given; valid poses are: {valid}")
    return [pool[name] for name in chosen]
