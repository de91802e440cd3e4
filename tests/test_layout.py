"""The package layout: imports flow one way, from input to output.

``video <- landmarks <- poses <- (options, results) <- pipeline <- (render, compare) <-
(CLI, tools) <- jobs <- api <- server``: a module may import its own stage
and earlier ones, never a later one. Every import counts, including those
inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Stage of each module prefix, earliest first; the longest prefix wins.
STAGES = {
    "analyzer.errors": 0,
    "analyzer.video": 1,
    "analyzer.landmarks": 2,
    "analyzer.poses": 3,
    "analyzer.options": 4,
    "analyzer.results": 4,
    "analyzer.cli": 5,  # what the command lines share (the compare one included)
    "analyzer.pipeline": 5,
    "analyzer.render": 6,
    "analyzer.compare": 6,  # a comparison of two videos: landmarks from the pipeline
    "analyzer": 7,  # the package's own front: __init__, __main__, annotate, tools
    "jobs": 8,
    "api": 9,
    "server": 10,
}
#: Imports the analyzer may never make, whatever the stage.
SERVICE_ONLY = ("flask", "werkzeug", "gunicorn", "gevent", "api", "jobs", "server")


def stage(module: str) -> int | None:
    """The stage of ``module``, or ``None`` for a third-party module."""
    for prefix in sorted(STAGES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return STAGES[prefix]
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[str]:
    """Every module ``path`` imports (absolute imports; the project uses no others)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found.append(node.module or "")
    return found


SOURCES = sorted(
    path
    for pattern in ("analyzer/**/*.py", "jobs/**/*.py", "api/**/*.py", "server.py")
    for path in ROOT.glob(pattern)
)


def later_stages(module: str, imported: list[str]) -> list[str]:
    """The modules of ``imported`` that belong to a later stage than ``module``."""
    own = stage(module)
    assert own is not None, f"{module} is in no stage"
    return [name for name in imported if (theirs := stage(name)) is not None and theirs > own]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_no_module_imports_a_later_stage(path: Path) -> None:
    assert later_stages(module_name(path), imports(path)) == []


@pytest.mark.parametrize("path", [p for p in SOURCES if relative(p).startswith("analyzer/")], ids=relative)
def test_the_analyzer_knows_nothing_of_http_or_jobs(path: Path) -> None:
    assert [name for name in imports(path) if name.split(".")[0] in SERVICE_ONLY] == []


def test_a_backward_import_is_caught() -> None:
    assert later_stages("analyzer.video.reader", ["analyzer.landmarks.pool", "numpy"]) == [
        "analyzer.landmarks.pool"
    ]
    assert later_stages("analyzer.poses.geometry", ["analyzer.pipeline", "analyzer.video"]) == [
        "analyzer.pipeline"
    ]
    assert later_stages("analyzer.tools.evaluate", ["analyzer.pipeline", "analyzer.errors"]) == []
    assert later_stages("jobs.worker", ["api.routes"]) == ["api.routes"]


def test_the_api_process_never_imports_mediapipe() -> None:
    """The app gunicorn serves loads no landmarker: analyses and
    comparisons are jobs, run by the job worker's landmark processes
    (``python -m jobs``), so ``mediapipe`` is not even imported."""
    code = (
        "import sys\n"
        "from server import create_app\n"
        "create_app()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'mediapipe'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
