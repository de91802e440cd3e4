"""Validate pose definitions against the published JSON Schema
(``pose-definition.schema.json``, next to this module) and the rules a
schema cannot state, with errors that point at the wrong place.

Raises ``PoseDefinitionError`` whose message has one line per problem, in
the order they appear in the text: ``source: line L, column C ($.path):
what is wrong`` (at most ``MAX_ERRORS`` of them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from analyzer.errors import PoseDefinitionError
from analyzer.poses.definitions.points import CENTRAL, is_sided
from analyzer.poses.definitions.source import Document
from analyzer.poses.definitions.source import Path as JsonPath

SCHEMA_PATH = Path(__file__).with_name("pose-definition.schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
Draft202012Validator.check_schema(SCHEMA)
_VALIDATOR = Draft202012Validator(SCHEMA)
#: One definition on its own (an item of a request's list of poses).
_POSE_VALIDATOR = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/pose"})
#: Most problems reported at once.
MAX_ERRORS = 10

Problem = tuple[JsonPath, str, bool]  # (path, message, point at the key)


def _schema_problems(error: ValidationError) -> list[Problem]:
    """One or more located problems for a schema error."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in allowed]
        return [
            (
                (*path, key),
                f"unknown property {key!r}; allowed here: {', '.join(sorted(allowed))}",
                True,
            )
            for key in extra
        ]
    if error.validator == "required" and error.validator_value == ["max"]:
        return [(path, "a limit needs 'min' or 'max' (or both)", False)]
    return [(path, error.message, False)]


def _rule_problems(pose: dict[str, Any], path: JsonPath) -> list[Problem]:
    """Problems with one schema-valid pose that the schema cannot express."""
    problems: list[Problem] = []
    for i, constraint in enumerate(pose["constraints"]):
        problems += _item_problems(constraint, (*path, "constraints", i), in_group=False)
    return problems


def _item_problems(spec: dict[str, Any], where: JsonPath, *, in_group: bool) -> list[Problem]:
    """Problems of a constraint, an alternative or a group, and of what they hold."""
    if "for" in spec:
        return [
            problem
            for j, item in enumerate(spec["constraints"])
            for problem in _item_problems(item, (*where, "constraints", j), in_group=True)
        ]
    if "any" in spec:
        return [
            problem
            for j, item in enumerate(spec["any"])
            for problem in _item_problems(item, (*where, "any", j), in_group=in_group)
        ]
    problems: list[Problem] = []
    if "min" in spec and "max" in spec and spec["min"] >= spec["max"]:
        problems.append(((*where, "min"), "min must be less than max", False))
    if in_group:
        return problems
    names = [((*where, "points", k), name) for k, name in enumerate(spec["points"])]
    if "of" in spec:
        names.append(((*where, "of"), spec["of"]))
    for at, name in names:
        if is_sided(name):
            problems.append(
                (
                    at,
                    f"{name!r} belongs to one side of the body: use it inside a group "
                    "('for': both, either, visible, supporting or lifted) or use a central point "
                    f"({', '.join(CENTRAL)})",
                    False,
                )
            )
    return problems


def validate(
    document: Document, paths: list[JsonPath] | None = None
) -> list[tuple[dict[str, Any], JsonPath]]:
    """The valid poses of a document, each with its path.

    Args:
        document: the parsed JSON.
        paths: where the definitions are; ``None`` validates the whole
            document against the published schema (one definition or an
            array of them).

    Raises:
        PoseDefinitionError: what is wrong and where.
    """
    if paths is None:
        problems = [
            problem for error in _VALIDATOR.iter_errors(document.value) for problem in _schema_problems(error)
        ]
        value = document.value
        paths = [(i,) for i in range(len(value))] if isinstance(value, list) else [()]
    else:
        problems = [
            ((*path, *subpath), message, key)
            for path in paths
            for error in _POSE_VALIDATOR.iter_errors(document.at(path))
            for subpath, message, key in _schema_problems(error)
        ]
    poses = [(document.at(path), path) for path in paths]
    if not problems:
        seen: set[str] = set()
        for pose, path in poses:
            problems += _rule_problems(pose, path)
            if pose["name"] in seen:
                problems.append(((*path, "name"), f"pose {pose['name']!r} is defined twice", False))
            seen.add(pose["name"])
    if problems:
        raise_problems(document, problems)
    return poses


def raise_problems(document: Document, problems: list[Problem]) -> None:
    """Raise one error listing the problems in the order of the text.

    Raises:
        PoseDefinitionError: always.
    """
    problems = sorted(problems, key=lambda problem: document.offset(problem[0], key=problem[2]))
    lines = [document.error(path, message, key=key) for path, message, key in problems]
    more = len(lines) - MAX_ERRORS
    raise PoseDefinitionError("\n".join(lines[:MAX_ERRORS] + ([f"... and {more} more"] if more > 0 else [])))
