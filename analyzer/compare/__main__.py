"""Command line: ``python -m analyzer.compare REFERENCE PERFORMANCE``.

Prints the same JSON as ``POST /compare`` to stdout, and a progress bar
(frames of both videos) on stderr. On failure it prints the API's error
envelope ``{"error": {"code", "message"}}`` to stdout and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from tqdm import tqdm

from analyzer.compare.videos import compare_videos
from analyzer.errors import AnalyzerError
from analyzer.landmarks import LandmarkPool
from analyzer.video import frames_to_analyze


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer.compare",
        description="Compare a performance video with a reference video; print JSON.",
    )
    parser.add_argument("reference", help="the reference (teacher's) video file")
    parser.add_argument("performance", help="the performance (student's) video file")
    parser.add_argument(
        "--include",
        choices=["frames"],
        action="append",
        default=[],
        help="'frames' adds both videos' per-frame timestamps and landmarks",
    )
    parser.add_argument(
        "--sample-fps",
        type=float,
        default=None,
        help="analyze at most this many frames per second of each video (default: every frame)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="landmark worker processes (default: the number of cores, %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser.parse_args(argv)


def _fail(exc: Exception) -> int:
    """Print the error envelope to stdout; returns exit status 1."""
    code = getattr(exc, "code", "bad_input")
    json.dump({"error": {"code": code, "message": str(exc)}}, sys.stdout)
    sys.stdout.write("\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = parse_args(argv)
    if args.sample_fps is not None and not (math.isfinite(args.sample_fps) and args.sample_fps > 0):
        return _fail(ValueError("--sample-fps must be a finite number above 0"))
    expected = [frames_to_analyze(path, args.sample_fps) for path in (args.reference, args.performance)]
    bar = tqdm(
        total=None if None in expected else sum(expected),
        unit="frame",
        file=sys.stderr,
        disable=args.no_progress,
        desc="comparing",
    )

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    pool = LandmarkPool(max(1, args.workers))
    try:
        result = compare_videos(
            args.reference,
            args.performance,
            pool,
            sample_fps=args.sample_fps,
            include_frames="frames" in args.include,
            on_progress=progress,
        )
    except (AnalyzerError, OSError) as exc:
        return _fail(exc)
    finally:
        bar.close()
        pool.close()
    json.dump(result.to_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
