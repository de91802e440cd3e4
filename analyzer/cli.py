"""What the command lines (``python -m analyzer``, ``python -m
analyzer.compare``) share: the options that run the landmarker, the
progress bar on stderr and the error envelope on stdout."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from analyzer.options import MIN_SAMPLE_FPS


def sample_fps(text: str) -> float:
    """``--sample-fps``: a finite rate of at least ``MIN_SAMPLE_FPS`` frames
    per second (the floor ``AnalysisOptions`` and the API hold too).

    Raises:
        argparse.ArgumentTypeError: anything else (a usage error, status 2).
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= MIN_SAMPLE_FPS):
        raise argparse.ArgumentTypeError(f"must be a finite number of at least {MIN_SAMPLE_FPS:g}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser, *, include_help: str, sample_help: str) -> None:
    """Add ``--include``, ``--sample-fps``, ``--workers`` and ``--no-progress``."""
    parser.add_argument("--include", choices=["frames"], action="append", default=[], help=include_help)
    parser.add_argument("--sample-fps", type=sample_fps, default=None, help=sample_help)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="landmark worker processes (default: the number of cores, %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


@contextmanager
def progress_bar(total: int | None, description: str, *, disable: bool) -> Iterator[Callable[[int], None]]:
    """A tqdm bar of frames on stderr; yields the ``on_progress(frames_done)``
    callback that the pipeline calls with the running total."""
    bar = tqdm(total=total, unit="frame", file=sys.stderr, disable=disable, desc=description)
    try:
        yield lambda done: bar.update(done - bar.n)
    finally:
        bar.close()


def fail(exc: Exception) -> int:
    """Print the API's error envelope ``{"error": {"code", "message"}}`` for
    ``exc`` to stdout (its ``code``, else ``bad_input``); returns exit status 1."""
    code = getattr(exc, "code", "bad_input")
    json.dump({"error": {"code": code, "message": str(exc)}}, sys.stdout)
    sys.stdout.write("\n")
    return 1


def print_json(body: dict) -> int:
    """Print a result as indented strict JSON (never NaN or Infinity) to
    stdout; returns exit status 0."""
    json.dump(body, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0
