"""Throughput and memory benchmark: ``python -m analyzer.tools.bench`` (``make bench``).

Measures, in one run on the same inputs, side by side:

- ``baseline``: the naive loop, one process: OpenCV read -> RGB ->
  ``PoseLandmarker.detect_for_video`` -> detectors, nothing overlapped. It runs
  in a child process of its own so its memory and CPU are its alone.
- ``pipeline``: ``analyze_video`` on a warm ``LandmarkPool`` of one worker
  per core (the service's path, model already loaded, as in the server).
- ``sampled``: the same with ``sample_fps=10``.

Inputs: the shared clips and a long video made from one of them with ffmpeg
at benchmark time (default 3 minutes at 1920x1080, 30 fps; cached under
``build/bench/``). Per input and method it prints the median over ``--runs``
of: analyzed frames, wall seconds, analyzed frames/s, video frames covered
per second, CPU utilisation of all processes involved (CPU seconds / wall /
cores), peak RSS (each process's, summed) and peak PSS (sampled) of those
processes, and the ratio of covered frames/s to the baseline's (the median
of the per-run ratios). Then the peak
memory of the long video against a 15 s clip, and the wall time of
``POST /analyze`` on a running gunicorn against ``python -m analyzer`` for
the same video. Nothing here passes or fails on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import requests

from analyzer.landmarks.pool import LandmarkPool
from analyzer.options import AnalysisOptions
from analyzer.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[2]
CORES = os.cpu_count() or 1
#: Clip the long video is made from, and the 15 s clip its memory is compared with.
LONG_SOURCE = "dance_hiphop_solo_portrait_718x1280.mp4"
SAMPLE_FPS = 10.0


@dataclass
class Measurement:
    """One timed analysis of one input.

    Attributes:
        frames: frames run through the landmarker.
        video_frames: frames of the video covered (decoded).
        wall_s: wall time in seconds.
        cpu_s: CPU seconds (user + system) of every process involved.
        peak_rss_mb: the peak resident memory (RSS) of each of those
            processes, summed, in MB; pages they share are counted once per
            process, and the processes need not peak together, so this is an
            upper bound of their joint peak.
        peak_pss_mb: peak of their summed proportional set size (PSS), in MB,
            sampled every 200 ms: shared pages split between the processes
            sharing them, so the sum is the memory the analysis really holds.
    """

    frames: int
    video_frames: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float

    @property
    def covered_fps(self) -> float:
        """Video frames covered per wall second."""
        return self.video_frames / self.wall_s


def _tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def _peak_rss(process: psutil.Process) -> int:
    """The kernel's high-water mark of the process's RSS (``VmHWM``), in
    bytes; 0 for a process that has ended (or is a zombie)."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)


class TreeMonitor:
    """Peak memory and CPU seconds of this process and its children between
    ``__enter__`` and ``__exit__``.

    Peak RSS is the sum of each process's own peak (the kernel's ``VmHWM``,
    reset on entry through ``/proc/PID/clear_refs``), so it costs nothing to
    measure and is never below the peak of the sum. PSS has no kernel peak:
    it is sampled every ``PSS_EVERY_S`` (reading it costs about 1 ms of CPU
    per process, so sampling faster would slow what it measures).
    """

    PSS_EVERY_S = 0.2

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _cpu(self) -> dict[int, float]:
        seconds = {}
        for process in _tree(self.me):
            try:
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
            except psutil.Error:
                continue
        return seconds

    def _sample(self) -> None:
        while not self._stop.is_set():
            pss = 0
            for process in _tree(self.me):
                try:
                    pss += process.memory_full_info().pss
                except psutil.Error:
                    continue
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.PSS_EVERY_S)

    def __enter__(self) -> TreeMonitor:
        for process in _tree(self.me):
            with contextlib.suppress(OSError):  # ended meanwhile
                Path(f"/proc/{process.pid}/clear_refs").write_text("5")
        self._cpu_start = self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = sum(_peak_rss(process) for process in _tree(self.me))
        end = self._cpu()
        self.cpu_s = sum(end[pid] - self._cpu_start.get(pid, 0.0) for pid in end)


def run_baseline(video: Path) -> Measurement:
    """The naive loop, measured in a child process (see ``baseline_main``)."""
    out = subprocess.run(
        [sys.executable, "-m", "analyzer.tools.bench", "--baseline-child", str(video)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return Measurement(**json.loads(out.strip().splitlines()[-1]))


def baseline_main(video: Path) -> None:
    """Child process: run the naive loop once and print its Measurement as JSON."""
    import cv2
    import mediapipe as mp
    import numpy as np

    from analyzer.landmarks.blazepose import to_pixels
    from analyzer.landmarks.landmarker import create_landmarker
    from analyzer.landmarks.model import resolve_model_path
    from analyzer.poses.detectors import get_detectors

    detectors = get_detectors()
    model = resolve_model_path().read_bytes()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = 0
    with create_landmarker(model) as landmarker:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), round(frames * 1000 / fps)
            )
            if result.pose_landmarks:
                points = np.array(
                    [(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks[0]], np.float32
                )
                world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[0]], np.float32)
                pixels = to_pixels(points, rgb.shape[1], rgb.shape[0], world)
                for detector in detectors:
                    detector.score(pixels)
            frames += 1
    wall = time.perf_counter() - started
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime - usage.ru_utime) + (end.ru_stime - usage.ru_stime)
    # One process: its peak RSS stands for both (ru_maxrss is in KiB).
    peak = end.ru_maxrss / 1024
    print(json.dumps(asdict(Measurement(frames, frames, wall, cpu, peak, peak))))


def run_pipeline(video: Path, pool: LandmarkPool, sample_fps: float | None) -> Measurement:
    """``analyze_video`` on a warm pool, measured over this process and its workers."""
    with TreeMonitor() as monitor:
        started = time.perf_counter()
        result = analyze_video(video, pool, AnalysisOptions(sample_fps=sample_fps))
        wall = time.perf_counter() - started
    return Measurement(
        result.processed_frames,
        result.total_frames,
        wall,
        monitor.cpu_s,
        monitor.peak_rss / 2**20,
        monitor.peak_pss / 2**20,
    )


def make_long_video(source: Path, seconds: float, height: int, directory: Path) -> Path:
    """A ``seconds`` long 16:9 video of ``height`` lines at 30 fps, the
    source clip looped and centred (H.264, made once and cached)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"long_{int(seconds)}s_{height}p.mp4"
    if not path.exists():
        width = height * 16 // 9
        partial = path.with_suffix(".part.mp4")
        subprocess.run(
            [
                "ffmpeg",
                "-y",
                "-loglevel",
                "error",
                "-stream_loop",
                "-1",
                "-i",
                str(source),
                "-t",
                str(seconds),
                "-vf",
                f"scale=-2:{height},pad={width}:{height}:(ow-iw)/2:0,fps=30",
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                str(partial),
            ],
            check=True,
        )
        partial.rename(path)
    return path


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_video(url: str, video: Path) -> None:
    """``POST /analyze`` one video and fail on an error status."""
    with video.open("rb") as handle:
        requests.post(
            url + "/analyze", files={"video": handle}, timeout=600, headers={"Connection": "close"}
        ).raise_for_status()


def http_vs_cli(video: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds of ``POST /analyze`` on a warm gunicorn and of a
    ``python -m analyzer`` run (start-up and model load included)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as uploads:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "server:app"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PORT": str(port), "UPLOAD_DIR": uploads},
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    requests.get(url + "/health", timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            post_video(url, video)  # warm: the workers load the model
            http = []
            for _ in range(runs):
                started = time.perf_counter()
                post_video(url, video)
                http.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=120)
    cli = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "analyzer", str(video), "--no-progress"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - started)
    return statistics.median(http), statistics.median(cli)


def summarize(name: str, method: str, runs: list[Measurement], baseline: list[Measurement]) -> dict:
    """Medians of one input and method, and the median ratio to the baseline."""
    ratios = [r.covered_fps / b.covered_fps for r, b in zip(runs, baseline, strict=True)]
    return {
        "input": name,
        "method": method,
        "frames": runs[0].frames,
        "video_frames": runs[0].video_frames,
        "wall_s": statistics.median(r.wall_s for r in runs),
        "fps": statistics.median(r.frames / r.wall_s for r in runs),
        "covered_fps": statistics.median(r.covered_fps for r in runs),
        "cpu_pct": statistics.median(100 * r.cpu_s / r.wall_s / CORES for r in runs),
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
        "peak_pss_mb": max(r.peak_pss_mb for r in runs),
        "ratio": statistics.median(ratios),
    }


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| input | method | frames | wall s | frames/s | video frames/s | CPU % | peak RSS MB | peak PSS MB "
        "| x baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['input']} | {r['method']} | {r['frames']} | {r['wall_s']:.2f} | {r['fps']:.1f} "
            f"| {r['covered_fps']:.1f} | {r['cpu_pct']:.0f} | {r['peak_rss_mb']:.0f} "
            f"| {r['peak_pss_mb']:.0f} | {r['ratio']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(
        prog="python -m analyzer.tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--runs", type=int, default=3, help="runs per input and method (median)")
    parser.add_argument("--long-seconds", type=float, default=180.0)
    parser.add_argument("--long-height", type=int, default=1080)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one short clip, a 10 s 720p long video, one run (a smoke test, not figures)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        baseline_main(args.baseline_child)
        return 0
    if args.quick:
        args.runs, args.long_seconds, args.long_height = 1, 10.0, 720
        clips = [args.videos / "arm_circles_tpose_portrait_480x848_10fps.mp4"]
    else:
        clips = sorted(args.videos.glob("*.mp4"))
    long_video = make_long_video(
        args.videos / LONG_SOURCE, args.long_seconds, args.long_height, ROOT / "build" / "bench"
    )
    pool = LandmarkPool(CORES)
    pool.start()
    rows = []
    try:
        for video in [*clips, long_video]:
            baseline = [run_baseline(video) for _ in range(args.runs)]
            rows.append(summarize(video.stem, "baseline", baseline, baseline))
            pipeline = [run_pipeline(video, pool, None) for _ in range(args.runs)]
            rows.append(summarize(video.stem, "pipeline", pipeline, baseline))
            sampled = [run_pipeline(video, pool, SAMPLE_FPS) for _ in range(args.runs)]
            rows.append(summarize(video.stem, f"sample_fps={SAMPLE_FPS:g}", sampled, baseline))
            print(table(rows[-3:]).split("\n", 2)[2], flush=True, file=sys.stderr)
        short = [run_pipeline(args.videos / LONG_SOURCE, pool, None) for _ in range(args.runs)]
    finally:
        pool.close()
    print(f"# {CORES} cores, {args.runs} run(s) per input and method; medians; peak RSS is the maximum\n")
    print(table(rows))
    long_peak = max(
        r["peak_rss_mb"] for r in rows if r["input"] == long_video.stem and r["method"] == "pipeline"
    )
    short_peak = max(m.peak_rss_mb for m in short)
    print(
        f"\npeak RSS, pipeline: {long_video.stem} {long_peak:.0f} MB vs {LONG_SOURCE} {short_peak:.0f} MB "
        f"({100 * (long_peak / short_peak - 1):+.1f}%)"
    )
    http, cli = http_vs_cli(args.videos / LONG_SOURCE, args.runs)
    print(
        f"HTTP POST /analyze {http:.2f} s vs CLI {cli:.2f} s for {LONG_SOURCE} "
        f"(HTTP/CLI {http / cli:.2f}; medians of {args.runs})"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "long_peak_mb": long_peak,
                    "short_peak_mb": short_peak,
                    "http_s": http,
                    "cli_s": cli,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
