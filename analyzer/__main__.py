"""Command line: ``python -m analyzer VIDEO [--poses ...] [--include frames]``.

Prints the same JSON as ``POST /analyze`` to stdout, and a progress bar on
stderr. On failure it prints the API's error envelope
``{"error": {"code", "message"}}`` to stdout and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys

from analyzer.cli import add_run_arguments, fail, print_json, progress_bar
from analyzer.errors import AnalyzerError
from analyzer.landmarks.pool import LandmarkPool
from analyzer.options import DEFAULT_MIN_SEGMENT_MS, DEFAULT_SMOOTHING_MS, AnalysisOptions
from analyzer.pipeline import analyze_video
from analyzer.poses.detectors import available, get_detectors
from analyzer.video import frames_to_analyze


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer", description="Detect dance and fitness poses in a video; print JSON."
    )
    parser.add_argument("video", help="video file (MP4, MOV, AVI, MKV, WebM)")
    parser.add_argument(
        "--poses",
        type=lambda text: tuple(text.split(",")),
        default=None,
        help=f"comma-separated poses to detect (default: all of {','.join(available())})",
    )
    parser.add_argument(
        "--smoothing-ms",
        type=float,
        default=DEFAULT_SMOOTHING_MS,
        help="window over which scores are averaged, in ms (default %(default)s)",
    )
    parser.add_argument(
        "--min-segment-ms",
        type=float,
        default=DEFAULT_MIN_SEGMENT_MS,
        help="shortest segment reported, in ms (default %(default)s)",
    )
    add_run_arguments(
        parser,
        include_help="'frames' adds per-frame timestamp, landmarks and scores",
        sample_help="analyze at most this many frames per second (default: every frame)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = parse_args(argv)
    try:
        options = AnalysisOptions(
            poses=tuple(d.name for d in get_detectors(args.poses)) if args.poses else None,
            include_frames="frames" in args.include,
            smoothing_ms=args.smoothing_ms,
            min_segment_ms=args.min_segment_ms,
            sample_fps=args.sample_fps,
        )
    except (AnalyzerError, ValueError) as exc:
        return fail(exc)
    pool = LandmarkPool(max(1, args.workers))
    total = frames_to_analyze(args.video, args.sample_fps)
    try:
        with progress_bar(total, "analyzing", disable=args.no_progress) as progress:
            result = analyze_video(args.video, pool, options, on_progress=progress)
    except (AnalyzerError, OSError) as exc:
        return fail(exc)
    finally:
        pool.close()
    return print_json(result.to_dict())


if __name__ == "__main__":
    sys.exit(main())
