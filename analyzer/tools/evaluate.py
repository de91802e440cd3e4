"""Accuracy against labelled frames: ``python -m analyzer.tools.evaluate LABELS VIDEOS``.

``LABELS`` is a CSV ``video,frame,<pose>,...`` with values ``1``, ``0`` or
``?`` (``?`` frames are left out), as in ``shared/labels/shared.csv``;
``video`` is a file name without extension in the ``VIDEOS`` directory.
Each labelled video is analyzed once with the service's own pipeline
(smoothing included), and the per-frame decisions (``detected_poses``) are
compared with the labels. With ``--sample-fps``, a labelled frame that was
not analyzed takes the decision of the nearest analyzed frame. Prints, per
pose, overall and per video: labelled frames, true/false positives and
negatives, precision, recall and F1; then the confusion table: for each
pose that fired, on how many of the frames labelled as another pose (and
labelled not itself) it fired.

Every column named after an available pose is scored, in any labels file:
the built-in ones (``shared/labels/shared.csv`` for the first three,
``shared/labels/vocab.csv`` for all twelve on the vocabulary clips,
``tests/labels/poses.csv`` for the library on the other shared clips) and
those of ``POSE_DEFINITIONS_DIR``; other columns are listed on stderr and
left out.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import os
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from analyzer.errors import AnalyzerError
from analyzer.landmarks.pool import LandmarkPool
from analyzer.options import AnalysisOptions
from analyzer.pipeline import analyze_video
from analyzer.poses.detectors import available
from analyzer.results import AnalysisResult
from analyzer.video import is_sampled

OVERALL = "(all)"


@dataclass
class Counts:
    """Confusion counts of one pose on one set of frames."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def labelled(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """F1 score; ``None`` when there is nothing to score (no positive
        label and no positive decision)."""
        if self.tp + self.fp + self.fn == 0:
            return None
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)

    def add(self, truth: bool, decided: bool) -> None:
        if truth:
            self.tp += decided
            self.fn += not decided
        else:
            self.fp += decided
            self.tn += not decided


def read_labels(path: Path) -> dict[str, list[dict[str, str]]]:
    """Label rows grouped by video name."""
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            grouped[row["video"]].append(row)
    return dict(grouped)


def find_video(directory: Path, name: str) -> Path:
    """The file ``name.*`` in ``directory``.

    Raises:
        FileNotFoundError: no such video.
    """
    matches = sorted(p for p in directory.glob(f"{name}.*") if p.suffix.lower() != ".md")
    if not matches:
        raise FileNotFoundError(f"no video named {name}.* in {directory}")
    return matches[0]


def unscored_columns(path: Path) -> list[str]:
    """Label columns that name no available pose (left out of the scores)."""
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), [])
    return [column for column in header if column not in {"video", "frame", *available()}]


def nearest(analyzed: list[int], frame: int) -> int:
    """The analyzed frame index closest to ``frame`` (the earlier on a tie).

    Args:
        analyzed: sorted, non-empty frame indices.
    """
    i = bisect.bisect_left(analyzed, frame)
    candidates = analyzed[max(0, i - 1) : i + 1]
    return min(candidates, key=lambda index: (abs(index - frame), index))


@dataclass
class Confusion:
    """How often one pose fired on the frames labelled as another.

    Attributes:
        labelled: frames labelled ``1`` for the other pose and ``0`` for this one.
        fired: how many of them this pose fired on.
    """

    labelled: int = 0
    fired: int = 0

    @property
    def rate(self) -> float | None:
        """``fired / labelled``; ``None`` without such frames."""
        return self.fired / self.labelled if self.labelled else None


@dataclass
class Evaluation:
    """Scores of the analyzer against one labels file.

    Attributes:
        counts: pose -> (video name or ``OVERALL``) -> counts, for the poses
            that are both labelled and registered.
        confusion: (pose that fired, pose labelled) -> how often, for every
            ordered pair of those poses.
    """

    counts: dict[str, dict[str, Counts]]
    confusion: dict[tuple[str, str], Confusion]

    def __getitem__(self, pose: str) -> dict[str, Counts]:
        return self.counts[pose]


def evaluate(labels_path: Path, videos: Path, options: AnalysisOptions, pool: LandmarkPool) -> Evaluation:
    """Score the analyzer against the labels (see ``Evaluation``)."""
    labels = read_labels(labels_path)
    header = next(iter(labels.values()))[0].keys()
    poses = [pose for pose in available() if pose in header]
    options = replace(options, poses=tuple(poses))

    def run(name: str) -> tuple[str, AnalysisResult]:
        return name, analyze_video(find_video(videos, name), pool, options)

    with ThreadPoolExecutor(max_workers=pool.size) as executor:
        detected = dict(executor.map(run, sorted(labels)))
    results: dict[str, dict[str, Counts]] = {pose: defaultdict(Counts) for pose in poses}
    confusion = {(fired, labelled): Confusion() for fired in poses for labelled in poses if fired != labelled}
    for name, rows in labels.items():
        result = detected[name]
        analyzed = [
            i for i in range(result.total_frames) if is_sampled(i, result.video.fps, options.sample_fps)
        ]
        hits = {pose: set(result.detected_poses[pose]) for pose in poses}
        for row in rows:
            decided = {pose: nearest(analyzed, int(row["frame"])) in hits[pose] for pose in poses}
            for pose in poses:
                if row[pose] in ("0", "1"):
                    results[pose][name].add(row[pose] == "1", decided[pose])
                    results[pose][OVERALL].add(row[pose] == "1", decided[pose])
            for (fired, labelled), counts in confusion.items():
                if row[labelled] == "1" and row[fired] == "0":
                    counts.labelled += 1
                    counts.fired += decided[fired]
    return Evaluation(
        counts={pose: dict(by_video) for pose, by_video in results.items()}, confusion=confusion
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(results: dict[str, dict[str, Counts]]) -> str:
    """A Markdown table: one block per pose, overall first, then per video."""
    lines = [
        "| pose | video | labelled | yes | TP | FP | FN | TN | precision | recall | F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pose, by_video in results.items():
        for name in [OVERALL, *sorted(n for n in by_video if n != OVERALL)]:
            c = by_video[name]
            label = f"**{pose}**" if name == OVERALL else ""
            lines.append(
                f"| {label} | {name} | {c.labelled} | {c.tp + c.fn} | {c.tp} | {c.fp} | {c.fn} | {c.tn} "
                f"| {_fmt(c.precision)} | {_fmt(c.recall)} | {_fmt(c.f1)} |"
            )
    return "\n".join(lines)


def format_confusion(confusion: dict[tuple[str, str], Confusion]) -> str:
    """A Markdown table: a row per pose that fired, a column per pose
    labelled, each cell ``fired/labelled`` (frames labelled as the column's
    pose and not as the row's); ``-`` where no frame is labelled so."""
    poses = sorted({pose for pair in confusion for pose in pair})
    labelled = [pose for pose in poses if any(confusion.get((f, pose), Confusion()).labelled for f in poses)]
    lines = [
        "| fired \\ labelled | " + " | ".join(labelled) + " |",
        "|---|" + "---:|" * len(labelled),
    ]
    for fired in poses:
        cells = []
        for pose in labelled:
            c = confusion.get((fired, pose))
            cells.append("" if c is None else "-" if not c.labelled else f"{c.fired}/{c.labelled}")
        lines.append(f"| {fired} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_json(evaluation: Evaluation) -> dict:
    """JSON-ready form: counts plus precision, recall and F1, and the confusion."""
    return {
        "poses": {
            pose: {
                name: {**asdict(c), "precision": c.precision, "recall": c.recall, "f1": c.f1}
                for name, c in by_video.items()
            }
            for pose, by_video in evaluation.counts.items()
        },
        "confusion": [
            {"fired": fired, "labelled": labelled, **asdict(c), "rate": c.rate}
            for (fired, labelled), c in evaluation.confusion.items()
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation CLI; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer.tools.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("labels", type=Path, help="labels CSV (video,frame,<pose>...)")
    parser.add_argument("videos", type=Path, help="directory of the labelled videos")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="landmark worker processes")
    parser.add_argument("--smoothing-ms", type=float, default=AnalysisOptions.smoothing_ms)
    parser.add_argument("--sample-fps", type=float, default=None, help="analyze at most this many frames/s")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    pool = LandmarkPool(args.workers)
    try:
        results = evaluate(
            args.labels,
            args.videos,
            AnalysisOptions(smoothing_ms=args.smoothing_ms, sample_fps=args.sample_fps),
            pool,
        )
    except (AnalyzerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        pool.close()
    if unscored := unscored_columns(args.labels):
        print(f"not a pose, left out: {', '.join(unscored)}", file=sys.stderr)
    print(format_table(results.counts))
    print()
    print(
        "Confusion: frames on which a pose (row) fired, of those labelled as another (column) and not as it"
    )
    print()
    print(format_confusion(results.confusion))
    if args.json:
        args.json.write_text(json.dumps(to_json(results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
