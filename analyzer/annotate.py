"""``python -m analyzer.annotate VIDEO ANALYSIS.json OUT.mp4``: the annotated
video from the command line (``analyzer.render.annotate``).

ANALYSIS is the JSON of an analysis of VIDEO made with ``include=frames``,
or an ``Overlay`` saved as ``.npz`` (what the server hands over). Prints
what was written as JSON, or the error envelope with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analyzer.errors import AnalyzerError
from analyzer.render.annotate import render_annotated
from analyzer.render.overlay import Overlay, overlay_from_analysis


def main(argv: list[str] | None = None) -> int:
    """Render from the command line; prints what was written as JSON, or the
    error envelope and exits with status 1."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer.annotate",
        description="Draw the skeleton and poses of an analysis (include=frames) on its video; write an MP4.",
    )
    parser.add_argument("video", help="the analyzed video")
    parser.add_argument(
        "analysis", help="JSON of its analysis, made with include=frames (or an overlay .npz)"
    )
    parser.add_argument("out", help="MP4 file to write")
    args = parser.parse_args(argv)
    try:
        source = Path(args.analysis)
        if source.suffix == ".npz":
            overlay = Overlay.load(source)
        else:
            overlay = overlay_from_analysis(json.loads(source.read_text()))
        rendered = render_annotated(args.video, overlay, args.out)
    except (AnalyzerError, ValueError, OSError) as exc:
        json.dump({"error": {"code": getattr(exc, "code", "bad_input"), "message": str(exc)}}, sys.stdout)
        sys.stdout.write("\n")
        return 1
    json.dump(vars(rendered), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
