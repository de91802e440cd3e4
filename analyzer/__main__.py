"""Command line: ``python -m analyzer VIDEO [--poses ...] [--include frames]``.

Prints the same JSON as ``POST /analyze`` to stdout, and a progress bar on
stderr. On failure it prints the API's error envelope
``{"error": {"code", "message"}}`` to stdout and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tqdm import tqdm

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
        "--include",
        choices=["frames"],
        action="append",
        default=[],
        help="'frames' adds per-frame timestamp, landmarks and scores",
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
    parser.add_argument(
        "--sample-fps",
        type=float,
        default=None,
        help="analyze at most this many frames per second (default: every frame)",
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
    try:
        options = AnalysisOptions(
            poses=tuple(d.name for d in get_detectors(args.poses)) if args.poses else None,
            include_frames="frames" in args.include,
            smoothing_ms=args.smoothing_ms,
            min_segment_ms=args.min_segment_ms,
            sample_fps=args.sample_fps,
        )
    except (AnalyzerError, ValueError) as exc:
        return _fail(exc)
    pool = LandmarkPool(max(1, args.workers))
    bar = tqdm(
        total=frames_to_analyze(args.video, args.sample_fps),
        unit="frame",
        file=sys.stderr,
        disable=args.no_progress,
        desc="analyzing",
    )

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        result = analyze_video(args.video, pool, options, on_progress=progress)
    except (AnalyzerError, OSError) as exc:
        return _fail(exc)
    finally:
        bar.close()
        pool.close()
    json.dump(result.to_dict(), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
