"""A fixed-size pool of landmark worker processes (``analyzer.landmarks.worker``).

Why processes started with ``subprocess`` rather than ``multiprocessing`` or
``concurrent.futures``: the server runs under gevent, which turns threads
and pipes into cooperative greenlets; the pool here only spawns processes,
writes and reads pipes, and waits on a queue, all of which gevent makes
cooperative, so a request waiting for its landmarks never blocks the event
loop. Outside gevent (the CLI) the same code uses real threads.

Each worker loads the model once and serves many tasks, one at a time. A
worker that dies (a crash, ``kill -9``) fails only the task it was running
and is replaced on next use; a task past its time limit has its worker
killed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from analyzer.errors import (
    AnalysisCanceledError,
    AnalysisTimeoutError,
    AnalyzerError,
    ModelUnavailableError,
    NotAVideoError,
    PoolBusyError,
    UndecodableVideoError,
    VideoTooLargeError,
    WorkerCrashedError,
)
from analyzer.landmarks.model import ModelInfo
from analyzer.landmarks.tasks import LandmarkRun, LandmarkTask

_ERRORS: dict[str, type[AnalyzerError]] = {
    cls.code: cls
    for cls in (NotAVideoError, UndecodableVideoError, VideoTooLargeError, ModelUnavailableError)
}


#: How often a waiting or running task checks whether it was canceled, in s.
CANCEL_CHECK_S = 0.1


class _Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "analyzer.landmarks.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=os.environ.copy(),
        )
        self.model: ModelInfo | None = None

    def wait_ready(self) -> ModelInfo:
        if self.model is None:
            message = self.receive()
            if message[0] == "error":
                raise ModelUnavailableError(message[2])
            self.model = message[1]
        return self.model

    def send(self, task: LandmarkTask) -> None:
        pickle.dump(task, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.flush()

    def receive(self) -> tuple:
        try:
            return pickle.load(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerCrashedError("the landmark worker process died") from exc

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class LandmarkPool:
    """A pool of ``size`` landmark worker processes.

    Workers start on first use (or with ``start``), in the process that uses
    the pool, so a gunicorn master never loads the model before forking.

    Args:
        size: number of worker processes (use the number of cores).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self._slots: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._slots.put(None)
        self._model: ModelInfo | None = None

    def start(self) -> ModelInfo:
        """Start every worker and wait until each has loaded the model.

        Raises:
            ModelUnavailableError: a worker could not load the model.
        """
        workers = [self._take(None) for _ in range(self.size)]
        try:
            for worker in workers:
                self._model = worker.wait_ready()
        finally:
            for worker in workers:
                self._slots.put(worker)
        return self._model  # type: ignore[return-value]

    @property
    def model(self) -> ModelInfo:
        """The model the workers loaded (starts a worker if none has yet)."""
        if self._model is None:
            self.start()
        return self._model  # type: ignore[return-value]

    def _take(self, wait_s: float | None, cancel: threading.Event | None = None) -> _Worker:
        deadline = None if wait_s is None else time.monotonic() + wait_s
        while True:
            if cancel is not None and cancel.is_set():
                raise AnalysisCanceledError("the analysis was canceled")
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = left if cancel is None else min(CANCEL_CHECK_S, CANCEL_CHECK_S if left is None else left)
            try:
                worker = self._slots.get(timeout=step)
                break
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise PoolBusyError("every analysis worker is busy; try again shortly") from None
        if worker is None or worker.process.poll() is not None:
            if worker is not None:
                worker.kill()
            worker = _Worker()
        return worker

    def run(
        self,
        task: LandmarkTask,
        *,
        timeout_s: float | None = None,
        wait_s: float | None = None,
        on_progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> LandmarkRun:
        """Run one task on a free worker, blocking (cooperatively under gevent).

        Args:
            task: the frames to run the landmarker on.
            timeout_s: time limit of the task in seconds; the worker is killed
                past it.
            wait_s: how long to wait for a free worker; ``None`` waits forever.
            on_progress: called with the frames done so far.
            cancel: when set, the task stops within ``CANCEL_CHECK_S``: its
                worker process is killed (its state is unknown) and its slot
                freed, to be refilled on next use.

        Raises:
            AnalysisCanceledError: ``cancel`` was set.
            PoolBusyError: no worker became free within ``wait_s``.
            AnalysisTimeoutError: the task ran past ``timeout_s``.
            WorkerCrashedError: the worker died during the task.
            NotAVideoError, UndecodableVideoError, VideoTooLargeError: raised
                by the worker.
            ModelUnavailableError: the worker could not load the model.
        """
        worker: _Worker | None = self._take(wait_s, cancel)
        expired, canceled, ended = threading.Event(), threading.Event(), threading.Event()

        def expire() -> None:
            expired.set()
            worker.process.kill()  # type: ignore[union-attr]  # unblocks receive()

        def watch() -> None:
            while not ended.wait(CANCEL_CHECK_S):
                if cancel.is_set():  # type: ignore[union-attr]
                    canceled.set()
                    worker.process.kill()  # type: ignore[union-attr]
                    return

        timer = threading.Timer(timeout_s, expire) if timeout_s else None
        if cancel is not None:
            threading.Thread(target=watch, name="cancel-watch", daemon=True).start()
        try:
            self._model = worker.wait_ready()
            if timer is not None:
                timer.start()
            worker.send(task)
            while True:
                message = worker.receive()
                if message[0] == "progress":
                    if on_progress is not None:
                        on_progress(message[1])
                elif message[0] == "result":
                    return message[1]
                else:
                    _, code, text = message
                    raise _ERRORS.get(code, AnalyzerError)(text)
        except WorkerCrashedError:
            worker.kill()
            worker = None
            if canceled.is_set():
                raise AnalysisCanceledError("the analysis was canceled") from None
            if expired.is_set():
                raise AnalysisTimeoutError(
                    f"the analysis took longer than its limit of {timeout_s:g} s"
                ) from None
            raise
        except AnalyzerError as exc:
            # Reported by a live worker about its task (a bad video): the
            # worker stays; one that cannot load its model does not.
            if isinstance(exc, ModelUnavailableError):
                worker.kill()
                worker = None
            raise
        except BaseException:
            # Interrupted mid-task (broken pipe, client gone, shutdown): the
            # worker's state is unknown, so it is not reused.
            worker.kill()
            worker = None
            raise
        finally:
            ended.set()
            if timer is not None:
                timer.cancel()
            self._slots.put(worker)

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when their task returns)."""
        for _ in range(self.size):
            try:
                worker = self._slots.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                worker.kill()
            self._slots.put(None)
