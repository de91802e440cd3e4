"""Command line: ``python -m analyzer.compare REFERENCE PERFORMANCE``.

Prints the same JSON as ``POST /compare`` to stdout, and a progress bar
(frames of both videos) on stderr. On failure it prints the API's error
envelope ``{"error": {"code", "message"}}`` to stdout and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys

from analyzer.cli import add_run_arguments, fail, print_json, progress_bar
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
    add_run_arguments(
        parser,
        include_help="'frames' adds both videos' per-frame timestamps and landmarks",
        sample_help="analyze at most this many frames per second of each video (default: every frame)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = parse_args(argv)
    expected = [frames_to_analyze(path, args.sample_fps) for path in (args.reference, args.performance)]
    pool = LandmarkPool(max(1, args.workers))
    try:
        with progress_bar(
            None if None in expected else sum(expected), "comparing", disable=args.no_progress
        ) as progress:
            result = compare_videos(
                args.reference,
                args.performance,
                pool,
                sample_fps=args.sample_fps,
                include_frames="frames" in args.include,
                on_progress=progress,
            )
    except (AnalyzerError, OSError) as exc:
        return fail(exc)
    finally:
        pool.close()
    return print_json(result.to_dict())


if __name__ == "__main__":
    sys.exit(main())
