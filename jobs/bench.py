"""The job path against the direct path, on a real server:
``python -m jobs.bench --videos DIR`` (part of ``make bench``).

On one gunicorn server (API + job worker, ``ANALYSIS_WORKERS`` landmark
processes) it measures, in one run:

- the median time from submitting a short clip to ``POST /analyses`` until
  its job is first seen ``running`` (``GET /analyses/{id}`` polled every
  5 ms, so the figure includes up to 5 ms of polling and one request) on an
  idle server;
- ``--count`` analyses of the hip-hop clip through ``POST /analyze`` and the
  same number through ``POST /analyses`` (each client submits, polls every
  0.2 s until the job ends, then reads the result), from ``--clients``
  concurrent clients that each alternate the two paths, so that drift in a
  shared machine's load falls on both alike: the median wall time of an
  analysis on each path, analyses per minute (clients x 60 / mean wall
  time) and their ratio;
- ``GET /health`` latency (10 probes a second) while those analyses run:
  median and p99;
- the same latency with the job worker at niceness 0 and at the default 10
  (``JOB_WORKER_NICE``), on fresh servers in alternating rounds, each round
  ``--clients`` clients running 2 analyses each through ``POST /analyses``:
  the p99 of each niceness over all its rounds, and their ratio.

Nothing passes or fails on a timing; BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CLIP = "dance_hiphop_solo_portrait_718x1280.mp4"
SHORT_CLIP = "arm_circles_tpose_portrait_480x848_10fps.mp4"


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """A gunicorn server (API + job worker) on loopback, in a temporary directory."""

    def __init__(self, tmp: Path, **settings: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        (tmp / "uploads").mkdir()
        env = {
            **os.environ,
            "PORT": self.url.rsplit(":", 1)[1],
            "UPLOAD_DIR": str(tmp / "uploads"),
            "JOB_DIR": str(tmp / "jobs"),
            "ANNOTATED_DIR": str(tmp / "annotated"),
            "RATE_LIMIT": "",
            "LOG_LEVEL": "warning",
            **settings,
        }
        self.log = (tmp / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "server:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def post(url: str, path: Path, endpoint: str) -> requests.Response:
    with path.open("rb") as handle:
        return requests.post(f"{url}/{endpoint}", files={"video": (path.name, handle)}, timeout=600)


def direct(url: str, path: Path) -> None:
    """One analysis through ``POST /analyze``."""
    response = post(url, path, "analyze")
    response.raise_for_status()


def as_job(url: str, path: Path, poll_s: float = 0.2) -> None:
    """One analysis through ``POST /analyses``, polled until it ends."""
    response = post(url, path, "analyses")
    response.raise_for_status()
    status_url = url + response.json()["status_url"]
    while True:
        body = requests.get(status_url, timeout=30).json()
        if body["status"] == "succeeded":
            return
        if body["status"] in ("failed", "canceled"):
            raise RuntimeError(f"job {body['status']}: {body['error']}")
        time.sleep(poll_s)


def start_latency(url: str, path: Path) -> float:
    """Seconds from sending a submission to its job first seen ``running``."""
    started = time.perf_counter()
    response = post(url, path, "analyses")
    response.raise_for_status()
    status_url = url + response.json()["status_url"]
    with requests.Session() as session:
        while True:
            body = session.get(status_url, timeout=30).json()
            if body["status"] != "queued":
                seen = time.perf_counter() - started
                break
            time.sleep(0.005)
        while body["status"] not in ("succeeded", "failed", "canceled"):
            time.sleep(0.1)
            body = session.get(status_url, timeout=30).json()
    return seen


def interleaved(url: str, path: Path, count: int, clients: int) -> dict[str, list[float]]:
    """``count`` analyses through each path from ``clients`` concurrent
    clients, each client alternating ``POST /analyze`` and ``POST /analyses``
    (so that both paths meet the same load on a shared machine): the wall
    seconds of each analysis, by path."""
    runs = {"POST /analyze": direct, "POST /analyses": as_job}
    names = list(runs)
    # Client c gets analyses c, c + clients, ...; each alternates the paths,
    # and neighbouring clients start with different ones.
    plans: list[list[str]] = [[] for _ in range(clients)]
    for i in range(2 * count):
        plans[i % clients].append(names[(i // clients + i % clients) % 2])
    times: dict[str, list[float]] = {name: [] for name in runs}

    def client(plan: list[str]) -> None:
        for name in plan:
            started = time.perf_counter()
            runs[name](url, path)
            times[name].append(time.perf_counter() - started)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, plan) for plan in plans]:
            future.result()
    return times


class HealthProbe:
    """``GET /health`` ten times a second in a thread, latencies in ms."""

    def __init__(self, url: str) -> None:
        self.url, self.latencies = url, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.wait(0.1):
                started = time.perf_counter()
                session.get(self.url + "/health", timeout=10).raise_for_status()
                self.latencies.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def health_by_niceness(videos: Path, rounds: int, clients: int) -> dict[int, list[float]]:
    """``/health`` latencies (ms) while ``clients`` clients each run 2 jobs
    of the hip-hop clip, on a fresh server per round whose job worker runs
    at niceness 0 or 10, alternating which goes first."""
    latencies: dict[int, list[float]] = {0: [], 10: []}
    for round_index in range(rounds):
        order = (0, 10) if round_index % 2 == 0 else (10, 0)
        for nice in order:
            with tempfile.TemporaryDirectory(prefix="dancepose-nice-bench-") as tmp:
                service = Service(Path(tmp), JOB_WORKER_NICE=str(nice))
                try:
                    direct(service.url, videos / SHORT_CLIP)  # the model is loaded, the pool warm
                    with HealthProbe(service.url) as probe, ThreadPoolExecutor(clients) as pool:
                        jobs = [pool.submit(as_job, service.url, videos / CLIP) for _ in range(2 * clients)]
                        for job in jobs:
                            job.result()
                    latencies[nice] += probe.latencies
                finally:
                    service.stop()
    return latencies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, required=True, help="the shared videos directory")
    parser.add_argument("--count", type=int, default=20, help="analyses per path (default 20)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients (default 2)")
    parser.add_argument("--starts", type=int, default=10, help="submissions timed to start (default 10)")
    parser.add_argument(
        "--nice-rounds", type=int, default=2, help="rounds of the niceness comparison (default 2; 0: none)"
    )
    args = parser.parse_args(argv)
    clip, short = args.videos / CLIP, args.videos / SHORT_CLIP
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="dancepose-jobs-bench-") as tmp:
        service = Service(Path(tmp))
        try:
            direct(service.url, short)  # the model is loaded, the pool warm
            starts = [start_latency(service.url, short) for _ in range(args.starts)]
            print(
                f"submit -> running on an idle server: median {statistics.median(starts) * 1000:.0f} ms "
                f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}, n={len(starts)})"
            )
            with HealthProbe(service.url) as probe:
                times = interleaved(service.url, clip, args.count, args.clients)
            rates = {}
            for name, walls in times.items():
                # Steady state: each client finishes one analysis per mean wall time.
                rates[name] = args.clients * 60 / statistics.mean(walls)
                print(
                    f"{name:15s} {len(walls)} x {CLIP}, {args.clients} clients: median "
                    f"{statistics.median(walls):.1f} s each, {rates[name]:.2f} analyses/min"
                )
            ratio = rates["POST /analyses"] / rates["POST /analyze"]
            print(f"job path / direct path: {ratio:.3f}")
            print(
                f"GET /health during them: median {statistics.median(probe.latencies):.1f} ms, "
                f"p99 {p99(probe.latencies):.1f} ms, max {max(probe.latencies):.1f} ms "
                f"(n={len(probe.latencies)})"
            )
            print(
                f"load average before the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
                f"on {os.cpu_count()} cores"
            )
        finally:
            service.stop()
    if args.nice_rounds:
        by_nice = health_by_niceness(args.videos, args.nice_rounds, args.clients)
        for nice, values in by_nice.items():
            print(
                f"GET /health with the job worker at niceness {nice:2d}: median "
                f"{statistics.median(values):.1f} ms, p99 {p99(values):.1f} ms (n={len(values)})"
            )
        print(f"p99 at niceness 10 / at 0: {p99(by_nice[10]) / p99(by_nice[0]):.2f}")


if __name__ == "__main__":
    main()
