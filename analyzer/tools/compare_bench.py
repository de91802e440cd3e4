"""Benchmark: what comparing two 60 s landmark sequences costs once their
landmarks exist (issue 17: under 1 s on the development machine).

    python -m analyzer.tools.compare_bench [--reference VIDEO] [--performance VIDEO]

The landmarks of two real clips are found first (on a pool of workers, not
timed), each looped to 60 s, and then, ``--repeats`` times in turn:

- **comparison**: ``compare_sequences``, the whole of it (features, resampling,
  DTW as recorded and mirrored, scores, segments, path);
- **DTW, no band (baseline)**: one dtaidistance ``warping_path`` over the
  same resampled features with no Sakoe-Chiba band, the cost a comparison
  would have without one, for each of its two alignments.

Prints the median wall time of each and their ratio; medians of wall time,
since the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from dtaidistance import dtw_ndim

from analyzer.compare.engine import compare_sequences
from analyzer.compare.features import bone_directions
from analyzer.compare.resample import resample
from analyzer.compare.sequence import PoseSequence
from analyzer.compare.videos import landmarks_of, sequence_of
from analyzer.landmarks import LandmarkPool

SHARED_VIDEOS = Path(__file__).resolve().parents[3] / "shared" / "videos"
DURATION_MS = 60_000.0


def looped(sequence: PoseSequence, duration_ms: float = DURATION_MS) -> PoseSequence:
    """The sequence repeated end to end until it lasts ``duration_ms``.

    Raises:
        ValueError: the sequence has fewer than two frames.
    """
    if sequence.frame_count < 2:
        raise ValueError("a sequence to loop needs two frames or more")
    period = float(sequence.timestamps_ms[-1] - sequence.timestamps_ms[0]) + float(
        np.median(np.diff(sequence.timestamps_ms))
    )
    copies = int(np.ceil(duration_ms / period))
    times = np.concatenate(
        [sequence.timestamps_ms - sequence.timestamps_ms[0] + k * period for k in range(copies)]
    )
    keep = times <= duration_ms
    landmarks = np.concatenate([sequence.landmarks] * copies)[keep]
    return PoseSequence(times[keep], landmarks, sequence.width, sequence.height)


def unbanded_dtw(reference: PoseSequence, performance: PoseSequence) -> None:
    """The baseline: one DTW path over the resampled features, no band."""
    first = resample(bone_directions(reference), reference.timestamps_ms)
    second = resample(bone_directions(performance), performance.timestamps_ms)
    dtw_ndim.warping_path(
        np.nan_to_num(first.reshape(len(first), -1)),
        np.nan_to_num(second.reshape(len(second), -1)),
        use_c=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table to stdout and returns 0."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer.tools.compare_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--reference", type=Path, default=SHARED_VIDEOS / "dance_hiphop_solo_portrait_718x1280.mp4"
    )
    parser.add_argument("--performance", type=Path, default=SHARED_VIDEOS / "dance_solo_office_640x360.mp4")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    pool = LandmarkPool(2)
    try:
        runs = [
            landmarks_of(
                path, role, pool, sample_fps=None, timeout_s=None, wait_s=None, limits=None, on_progress=None
            )
            for role, path in (("reference", args.reference), ("performance", args.performance))
        ]
    finally:
        pool.close()
    reference, performance = (looped(sequence_of(run)) for run in runs)
    timings: dict[str, list[float]] = {"comparison": [], "DTW, no band (baseline)": []}
    for _ in range(args.repeats):
        for name, work in (
            ("comparison", lambda: compare_sequences(reference, performance)),
            ("DTW, no band (baseline)", lambda: unbanded_dtw(reference, performance)),
        ):
            started = time.perf_counter()
            work()
            timings[name].append(time.perf_counter() - started)
    baseline = statistics.median(timings["DTW, no band (baseline)"])
    print(
        f"reference {args.reference.name}: {reference.frame_count} frames; "
        f"performance {args.performance.name}: {performance.frame_count} frames; "
        f"both looped to {DURATION_MS / 1000:g} s; {args.repeats} repeats"
    )
    print("| method | median s | min s | max s | x baseline |")
    print("|---|---:|---:|---:|---:|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {min(values):.3f} | {max(values):.3f} | {median / baseline:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
