"""The job worker: takes jobs from the queue and runs them on its
``LandmarkPool``, ``JOB_CONCURRENCY`` at a time (``python -m jobs`` runs it).

- Kinds: the job's work is looked up by its kind in ``WORK`` (an analysis:
  ``jobs.analysis.analyze_job``; a comparison: ``jobs.comparison.compare_job``);
  everything else below is the same for every kind.

- Leases: a received job is hidden from other workers for ``JOB_LEASE_S``;
  a heartbeat thread extends the lease every third of it while the job runs,
  so a worker that dies (kill -9, a lost machine) stops extending and the
  job is received again. The receive that is past ``JOB_MAX_ATTEMPTS``
  fails the job with ``worker_lost``.
- Cancellation: the heartbeat also reads each running job's status four
  times a second; a job canceled (``DELETE /analyses/{id}``,
  ``DELETE /comparisons/{id}``) or deleted has its landmark processes killed
  within half a second (``LandmarkPool.run``'s ``cancel``).
- Progress is written at most once a second per job.
- Exactly once: a job is finished by a conditional update
  (``JobStore.finish``); a run that loses (canceled meanwhile, or another
  worker finished it) deletes what it stored.
- Expiry: a sweep deletes jobs past ``expires_at`` and their files.
- Webhooks: the sweep also finds finished jobs whose webhook is still
  ``pending`` (just finished, canceled by the API, or left by a worker that
  died) and sends each in a thread.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from analyzer import LandmarkPool
from analyzer.errors import AnalyzerError
from jobs.analysis import analyze_job
from jobs.annotated_store import AnnotatedStore
from jobs.backends import Backends, Lease
from jobs.comparison import compare_job
from jobs.records import WORKER_LOST, Job, JobKind, JobStatus, Outcome
from jobs.render import Renderer
from jobs.settings import JobSettings
from jobs.webhooks import deliver, payload
from jobs.work import JobCanceled, Output, Run

log = logging.getLogger("jobs.worker")

#: How often an idle worker looks for a job, in s: the submit-to-start
#: latency on an idle server is at most this plus one SQLite transaction.
POLL_S = 0.05
#: How often running jobs are checked for cancellation, in s.
HEARTBEAT_S = 0.25
#: How often expired jobs are swept, in s.
SWEEP_S = 1.0
#: The work of each kind of job (``jobs.work``: given a ``Run``, it returns an ``Output``).
WORK: dict[JobKind, Callable[[Run], Output]] = {
    JobKind.ANALYSIS: analyze_job,
    JobKind.COMPARISON: compare_job,
}


@dataclass
class _Running:
    """A job this worker runs."""

    lease: Lease
    canceled: threading.Event = field(default_factory=threading.Event)
    extended_at: float = field(default_factory=time.monotonic)


class JobWorker:
    """Runs jobs from ``backends.queue`` on ``pool``.

    Args:
        backends: where jobs, messages and files live.
        settings: the job engine's settings.
        pool: the landmark workers analyses run on.
        annotated: where annotated videos go.
        on_busy: called with ``True`` when this worker starts running jobs
            and ``False`` when its last job is recorded finished (ECS task
            protection, ``jobs.aws.protection``).
    """

    def __init__(
        self,
        backends: Backends,
        settings: JobSettings,
        pool: LandmarkPool,
        annotated: AnnotatedStore,
        on_busy: Callable[[bool], None] | None = None,
    ) -> None:
        self.backends, self.settings, self.pool = backends, settings, pool
        self.on_busy = on_busy
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.annotated = annotated
        self.renderer = Renderer(annotated, settings.annotate_workers)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sending: set[str] = set()

    # ------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event, drain_s: float) -> None:
        """Take and run jobs until ``stop`` is set, then wait up to
        ``drain_s`` seconds for the running ones to end."""
        done = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(done,), name="heartbeat", daemon=True)
        heartbeat.start()
        slots = threading.BoundedSemaphore(max(1, self.settings.concurrency))
        swept = 0.0
        while not stop.is_set():
            if time.monotonic() - swept > SWEEP_S:
                self._sweep_safely()
                self._send_pending_webhooks()
                swept = time.monotonic()
            if not slots.acquire(timeout=POLL_S):
                continue
            try:
                lease = self.backends.queue.receive(self.settings.lease_s)
            except Exception:
                log.exception("cannot receive from the job queue")
                lease = None
            if lease is None:
                slots.release()
                stop.wait(POLL_S)
                continue
            thread = threading.Thread(target=self._run_then_release, args=(lease, slots), name=lease.job_id)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        deadline = time.monotonic() + drain_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        done.set()

    def _run_then_release(self, lease: Lease, slots: threading.BoundedSemaphore) -> None:
        try:
            self.run_job(lease)
        except Exception:
            log.exception("job %s: unexpected failure in the worker", lease.job_id)
        finally:
            slots.release()

    def _heartbeat(self, done: threading.Event) -> None:
        """Extend the leases of running jobs and notice cancellations."""
        store, queue = self.backends.store, self.backends.queue
        while not done.wait(HEARTBEAT_S):
            with self._lock:
                running = list(self._running.items())
            for job_id, entry in running:
                try:
                    job = store.get(job_id)
                    if job is None or job.status != JobStatus.RUNNING:
                        entry.canceled.set()
                    elif time.monotonic() - entry.extended_at > self.settings.lease_s / 3:
                        if not queue.extend(entry.lease, self.settings.lease_s):
                            log.warning("job %s: lease lost; stopping this run", job_id)
                            entry.canceled.set()
                        entry.extended_at = time.monotonic()
                except Exception:
                    log.exception("job %s: heartbeat failed", job_id)

    # ------------------------------------------------------------------ one job

    def run_job(self, lease: Lease) -> None:
        """Run the job of one received message, end to end."""
        store = self.backends.store
        if lease.receives > self.settings.max_attempts:
            job = store.get(lease.job_id)
            outcome = Outcome(
                JobStatus.FAILED,
                error_code=WORKER_LOST,
                error_message=f"the worker running this job stopped {lease.receives - 1} times",
            )
            if job is not None:
                self._drop_upload(job)
                store.finish(job.id, outcome, self.settings.ttl_s)
            self.backends.queue.delete(lease)
            return
        self._hold(True)
        try:
            self._run_started(lease)
        finally:
            self._hold(False)

    def _hold(self, start: bool) -> None:
        """Count running jobs; tell ``on_busy`` when the count leaves or
        reaches 0 (under the lock, so that the calls keep their order)."""
        with self._busy_lock:
            self._busy += 1 if start else -1
            if self._busy == (1 if start else 0) and self.on_busy is not None:
                self.on_busy(start)

    def _run_started(self, lease: Lease) -> None:
        store = self.backends.store
        job = store.start(lease.job_id, lease.receives)
        if job is None:  # canceled, finished or deleted meanwhile
            self.backends.queue.delete(lease)
            return
        entry = _Running(lease)
        with self._lock:
            self._running[job.id] = entry
        try:
            outcome = self._work(job, entry.canceled)
        finally:
            with self._lock:
                del self._running[job.id]
        # The upload goes before the job is recorded finished, so that a
        # client that sees the result never finds its upload still on disk.
        self._drop_upload(job)
        if outcome is not None and store.finish(job.id, outcome, self.settings.ttl_s):
            log.info("job %s %s", job.id, outcome.status)
        elif outcome is not None:
            log.info("job %s ended elsewhere first; dropping this run's files", job.id)
            self._drop_outputs(outcome.result_key, outcome.annotated_id)
        self.backends.queue.delete(lease)

    def _work(self, job: Job, canceled: threading.Event) -> Outcome | None:
        """Run the job's work (``WORK``, by kind) on local copies of its
        uploads and store its result; ``None`` if the job was canceled."""
        result_key = output = None
        try:
            objects = job.upload_objects()
            if not objects:
                raise AnalyzerError(f"the upload of this {job.kind} is gone")
            with ExitStack() as stack:
                videos = {
                    role: stack.enter_context(self.backends.uploads.local_copy(key))
                    for role, key in objects.items()
                }
                run = Run(job, videos, self.pool, self.renderer, canceled, self.backends.store)
                output = WORK[job.kind](run)
            result_key = f"{job.id}.{secrets.token_hex(4)}.json"
            self.backends.results.put_bytes(result_key, output.result)
            return Outcome(JobStatus.SUCCEEDED, result_key, output.annotated_id, output.annotated_expires_at)
        except JobCanceled:
            log.info("job %s canceled while running", job.id)
            self._drop_outputs(result_key, None if output is None else output.annotated_id)
            return None
        except AnalyzerError as exc:
            code = "internal" if type(exc) is AnalyzerError else exc.code
            return Outcome(JobStatus.FAILED, error_code=code, error_message=str(exc))
        except Exception:
            log.exception("job %s failed unexpectedly", job.id)
            self._drop_outputs(result_key, None if output is None else output.annotated_id)
            return Outcome(JobStatus.FAILED, error_code="internal", error_message="internal server error")

    # ------------------------------------------------------------------ files, expiry, webhooks

    def _drop_upload(self, job: Job) -> None:
        if job.upload_key is not None:
            for key in job.upload_objects().values():
                self.backends.uploads.delete(key)
            self.backends.store.forget_upload(job.id)

    def _drop_outputs(self, result_key: str | None, annotated_id: str | None) -> None:
        if result_key is not None:
            self.backends.results.delete(result_key)
        if annotated_id is not None:
            self.annotated.delete(annotated_id)

    def _sweep_safely(self) -> None:
        try:
            self.sweep(time.time())
        except Exception:
            log.exception("the expiry sweep failed")

    def sweep(self, now: float) -> int:
        """Delete the jobs past ``expires_at`` with their files; returns how many."""
        expired = self.backends.store.expired(now, limit=100)
        for job in expired:
            delete_job_files(self.backends, self.annotated, job)
            self.backends.store.delete(job.id)
        return len(expired)

    def _send_pending_webhooks(self) -> None:
        """Send, each in a thread, the webhooks of finished jobs still
        ``pending`` and not being sent (just finished, canceled by the API,
        or left by a worker that died), and record how each went."""
        try:
            pending = self.backends.store.pending_webhooks()
        except Exception:
            log.exception("cannot read the pending webhooks")
            return
        for job in pending:
            with self._lock:
                if job.id in self._sending:
                    continue
                self._sending.add(job.id)
            threading.Thread(
                target=self._send_webhook, args=(job,), name=f"webhook-{job.id}", daemon=True
            ).start()

    def _send_webhook(self, job: Job) -> None:
        settings = self.settings
        try:
            delivered = deliver(
                job.callback_url or "",
                payload(job.id, str(job.status), job.kind),
                secret=settings.webhook_secret,
                allow_http=settings.webhook_allow_http,
                allow_private=settings.webhook_allow_private,
                retry_s=settings.webhook_retry_s,
                backoff_s=settings.webhook_backoff_s,
                timeout_s=settings.webhook_timeout_s,
            )
            self.backends.store.set_webhook(job.id, "delivered" if delivered else "failed")
        except Exception:
            log.exception("job %s: webhook failed", job.id)
        finally:
            with self._lock:
                self._sending.discard(job.id)


def delete_job_files(backends: Backends, annotated: AnnotatedStore, job: Job) -> None:
    """Delete a job's upload(s), result and annotated video (those it has)."""
    for key in job.upload_objects().values():
        backends.uploads.delete(key)
    if job.result_key is not None:
        backends.results.delete(job.result_key)
    if job.annotated_id is not None:
        annotated.delete(job.annotated_id)
