"""JSON text with the line and column of every value, so that an error in a
pose definition can point at the place that is wrong.

Python's ``json`` module gives positions only for syntax errors. ``parse``
first decodes the text with it (so syntax errors and their positions are
exactly ``json``'s), then walks the same text once more and records where
each value and each object key starts, by JSON path.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from analyzer.errors import PoseDefinitionError

#: A location in a document: object keys and array indices from the root.
Path = tuple[str | int, ...]

_DECODER = json.JSONDecoder()
#: Deepest nesting of arrays and objects accepted; a pose definition nests 6 deep.
MAX_DEPTH = 20
_WHITESPACE = " \t\n\r"


def json_path(path: Path) -> str:
    """``$.constraints[2].min`` style text for a path (``$`` is the root)."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


@dataclass(frozen=True)
class Document:
    """A parsed JSON document and where its parts start.

    Attributes:
        value: the decoded JSON value.
        source: a name for the text in messages (a file name, a form field).
        values: path -> offset of the value's first character.
        keys: path -> offset of the key (its opening quote) that names it.
        text: the text, to turn offsets into lines and columns.
    """

    value: Any
    source: str
    values: dict[Path, int]
    keys: dict[Path, int]
    text: str

    def at(self, path: Path) -> Any:
        """The value at ``path``."""
        return _at(self.value, path)

    def offset(self, path: Path, *, key: bool = False) -> int:
        """Where ``path`` starts in the text: its key when ``key`` and it has
        one, else its value; the nearest enclosing value when the path does
        not exist (a missing property)."""
        found = self.keys.get(path) if key else None
        while found is None:
            found = self.values.get(path)
            path = path[:-1]
        return found

    def where(self, path: Path, *, key: bool = False) -> str:
        """``source: line L, column C ($.json.path)`` of ``path`` (see ``offset``)."""
        offset = self.offset(path, key=key)
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"{self.source}: line {line}, column {column} ({json_path(path)})"

    def error(self, path: Path, message: str, *, key: bool = False) -> str:
        """One error line: where, then what."""
        return f"{self.where(path, key=key)}: {message}"


def parse(text: str, source: str) -> Document:
    """Decode JSON text and record the position of every value and key.

    Raises:
        PoseDefinitionError: the text is not valid JSON (``NaN`` and
            ``Infinity`` included); the message gives the line and column.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoseDefinitionError(
            f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise PoseDefinitionError(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    if _too_deep(value):
        raise PoseDefinitionError(f"{source}: nested more than {MAX_DEPTH} levels deep")
    values: dict[Path, int] = {}
    keys: dict[Path, int] = {}
    _walk(text, _skip(text, 0), (), values, keys)
    document = Document(value=value, source=source, values=values, keys=keys, text=text)
    for path in values:
        if path and _is_constant(_at(value, path)):
            raise PoseDefinitionError(
                document.error(
                    path, "numbers must be finite (NaN, Infinity and out-of-range numbers are not allowed)"
                )
            )
    if _is_constant(value):
        raise PoseDefinitionError(
            document.error(
                (), "numbers must be finite (NaN, Infinity and out-of-range numbers are not allowed)"
            )
        )
    return document


def _too_deep(value: Any) -> bool:
    """Whether arrays and objects nest more than ``MAX_DEPTH`` levels in ``value``."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return any(isinstance(item, dict | list) for item in level)


def _at(value: Any, path: Path) -> Any:
    for part in path:
        value = value[part]
    return value


def _is_constant(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _walk(text: str, index: int, path: Path, values: dict[Path, int], keys: dict[Path, int]) -> int:
    """Record the value starting at ``index`` (valid JSON) and its children;
    returns the offset just past it."""
    values[path] = index
    opener = text[index]
    if opener not in "[{":
        return _DECODER.raw_decode(text, index)[1]
    closer = "]" if opener == "[" else "}"
    index = _skip(text, index + 1)
    position = 0
    while text[index] != closer:
        if opener == "{":
            key_at = index
            key, index = json.decoder.scanstring(text, index + 1)
            child: Path = (*path, key)
            keys[child] = key_at
            index = _skip(text, _skip(text, index) + 1)  # past the colon
        else:
            child = (*path, position)
            position += 1
        index = _skip(text, _walk(text, index, child, values, keys))
        if text[index] == ",":
            index = _skip(text, index + 1)
    return index + 1
