"""Declarative pose definitions: JSON in, detectors out.

A definition names a pose, says what a person would see, and lists
constraints on joint angles and relative landmark positions, each with a
threshold and a softness (docs/poses.md has the format, the published
schema is ``pose-definition.schema.json`` next to this module). It compiles
into a ``Detector`` like the hand-written ones.

Where definitions come from:

- ``analyzer/poses/library/*.json``: the built-in library, one pose per file named
  after the pose (registered by ``analyzer.poses.detectors.library``);
- the directory named by ``POSE_DEFINITIONS_DIR`` (every ``*.json`` file,
  each one definition or an array), registered at start-up the same way;
- a request's ``poses`` field (``parse_selection``, from ``api.params``):
  used for that analysis only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer.errors import PoseDefinitionError
from analyzer.poses.definitions.compiler import compile_definition
from analyzer.poses.definitions.source import Path as JsonPath
from analyzer.poses.definitions.source import parse
from analyzer.poses.definitions.validate import SCHEMA, SCHEMA_PATH, raise_problems, validate
from analyzer.poses.detectors.registry import Detector

#: Environment variable naming a directory of definitions to load at start-up.
DEFINITIONS_DIR_ENV = "POSE_DEFINITIONS_DIR"
#: Longest definition text accepted, in characters (a request field or a file).
MAX_TEXT_CHARS = 256_000
#: Most poses one request may list (the schema's limit for an array of definitions).
MAX_REQUEST_POSES = 50


def _detectors(poses: list[tuple[dict[str, Any], JsonPath]]) -> list[Detector]:
    return [
        Detector(
            name=pose["name"],
            description=pose["description"],
            score=compile_definition(pose),
            definition=pose,
        )
        for pose, _ in poses
    ]


def _check_length(text: str, source: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise PoseDefinitionError(f"{source}: longer than {MAX_TEXT_CHARS} characters")


def parse_definitions(text: str, source: str) -> list[Detector]:
    """Detectors from JSON text holding one definition or an array of them.

    Args:
        text: the JSON.
        source: what to call the text in error messages (a file name, a
            request field).

    Raises:
        PoseDefinitionError: the text is too long, not JSON, or not a valid
            definition; the message says where and why.
    """
    _check_length(text, source)
    return _detectors(validate(parse(text, source)))


def parse_selection(text: str | None, source: str) -> tuple[tuple[str, ...] | None, tuple[Detector, ...]]:
    """The poses a request asks for: comma-separated names, or JSON.

    JSON (text starting with ``[`` or ``{``) is one definition, or an array
    whose items are pose names (strings) and definitions (objects), run in
    that order.

    Returns:
        The pose names to run (``None`` for all, when ``text`` is ``None``)
        and the detectors compiled from the request's own definitions.

    Raises:
        PoseDefinitionError: the JSON is too long, not JSON, or not valid.
    """
    if text is None:
        return None, ()
    if not text.lstrip().startswith(("[", "{")):
        return tuple(text.split(",")), ()
    _check_length(text, source)
    document = parse(text, source)
    items = document.value if isinstance(document.value, list) else [document.value]
    paths: list[JsonPath] = [(i,) for i in range(len(items))] if isinstance(document.value, list) else [()]
    wrong = [
        (path, "an item is a pose name (a string) or a definition (an object)", False)
        for path, item in zip(paths, items, strict=True)
        if not isinstance(item, str | dict)
    ]
    if not items or len(items) > MAX_REQUEST_POSES:
        wrong.append(((), f"list between 1 and {MAX_REQUEST_POSES} poses", False))
    if wrong:
        raise_problems(document, wrong)
    definitions = [path for path, item in zip(paths, items, strict=True) if isinstance(item, dict)]
    detectors = _detectors(validate(document, definitions))
    names = tuple(item if isinstance(item, str) else item["name"] for item in items)
    return names, tuple(detectors)


def load_file(path: Path) -> list[Detector]:
    """Detectors from one ``.json`` file (see ``parse_definitions``).

    Raises:
        PoseDefinitionError: the file cannot be read as UTF-8 or is not valid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PoseDefinitionError(f"{path}: cannot read the file: {exc}") from None
    return parse_definitions(text, str(path))


def load_directory(directory: Path) -> list[Detector]:
    """Detectors from every ``*.json`` file of a directory, by file name.

    Raises:
        PoseDefinitionError: the directory does not exist, or a file is not
            valid, or two files define the same pose.
    """
    if not directory.is_dir():
        raise PoseDefinitionError(f"{directory}: no such directory of pose definitions")
    detectors: dict[str, tuple[Detector, Path]] = {}
    for path in sorted(directory.glob("*.json")):
        for detector in load_file(path):
            if detector.name in detectors:
                first = detectors[detector.name][1]
                raise PoseDefinitionError(f"{path}: pose {detector.name!r} is already defined in {first}")
            detectors[detector.name] = (detector, path)
    return [detector for detector, _ in detectors.values()]


__all__ = [
    "DEFINITIONS_DIR_ENV",
    "SCHEMA",
    "SCHEMA_PATH",
    "load_directory",
    "load_file",
    "parse_definitions",
    "parse_selection",
]
