"""Registers the declarative poses: the built-in library in
``analyzer/poses/`` (one definition per file, named after its pose) and, at
start-up, every definition in the directory named by ``POSE_DEFINITIONS_DIR``.

A definition that is not valid stops the import with a
``PoseDefinitionError`` that names the file, line and JSON path, so a
server with a broken definitions directory fails at start-up rather than
serving without the poses it was given.
"""

from __future__ import annotations

import os
from pathlib import Path

from analyzer.errors import PoseDefinitionError
from analyzer.poses.definitions import DEFINITIONS_DIR_ENV, load_directory, load_file
from analyzer.poses.detectors.registry import register_detector

#: The built-in pose library.
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "library"


def register_builtin() -> None:
    """Register every built-in definition.

    Raises:
        PoseDefinitionError: a file is not valid, or its name is not its pose's.
    """
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        detectors = load_file(path)
        if [detector.name for detector in detectors] != [path.stem]:
            raise PoseDefinitionError(
                f"{path}: a built-in file holds one definition, of the pose it is named after"
            )
        register_detector(detectors[0])


def register_directory(directory: str | None) -> None:
    """Register every definition in ``directory`` (nothing when unset or empty).

    Raises:
        PoseDefinitionError: the directory or a file in it is not valid, or a
            pose's name is already taken (a built-in pose, for instance).
    """
    if not directory:
        return
    for detector in load_directory(Path(directory)):
        try:
            register_detector(detector)
        except ValueError:
            raise PoseDefinitionError(
                f"{directory}: pose {detector.name!r} is already defined (built-in poses cannot be replaced)"
            ) from None


register_builtin()
register_directory(os.environ.get(DEFINITIONS_DIR_ENV))
