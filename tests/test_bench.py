"""The benchmark runs end to end in its short form (figures are not checked:
a benchmark, not a timed test; see BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, VIDEOS


def test_quick_benchmark_prints_every_measurement(model_path: Path, tmp_path: Path):
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "analyzer.tools.bench",
            "--quick",
            "--videos",
            str(VIDEOS),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    assert "x baseline" in run.stdout and "HTTP POST /analyze" in run.stdout
    data = json.loads(out.read_text())
    methods = {(row["input"], row["method"]) for row in data["rows"]}
    assert ("long_10s_720p", "pipeline") in methods and ("long_10s_720p", "sample_fps=10") in methods
    sampled = next(
        r for r in data["rows"] if r["input"] == "long_10s_720p" and r["method"] == "sample_fps=10"
    )
    assert sampled["frames"] == 100 and sampled["video_frames"] == 300
    assert all(row["peak_pss_mb"] > 0 and row["cpu_pct"] > 0 for row in data["rows"])
