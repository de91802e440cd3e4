"""The job worker: takes jobs from the queue and runs them on its
``LandmarkPool``, ``JOB_CONCURRENCY`` at a time (``python -m jobs`` runs it).

- Leases: a received job is hidden from other workers for ``JOB_LEASE_S``;
  a heartbeat thread extends the lease every third of it while the job runs,
  so a worker that dies (kill -9, a lost machine) stops extending and the
  job is received again. The receive that is past ``JOB_MAX_ATTEMPTS``
  fails the job with ``worker_lost``.
- Cancellation: the heartbeat also reads each running job's status four
  times a second; a job canceled (``DELETE /analyses/{id}``) or deleted has
  its landmark processes killed within half a second
  (``jobs.analysis.run_analysis``).
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
from dataclasses import dataclass, field

from analyzer import LandmarkPool
from analyzer.errors import AnalyzerError
from analyzer.video import frames_to_analyze, sniff
from jobs.analysis import JobCanceled, result_json, run_analysis
from jobs.annotated_store import AnnotatedStore
from jobs.backends import Backends, Lease
from jobs.records import WORKER_LOST, Job, JobStatus, Outcome
from jobs.render import Renderer
from jobs.settings import JobSettings
from jobs.webhooks import deliver, payload

log = logging.getLogger("jobs.worker")

#: How often an idle worker looks for a job, in s: the submit-to-start
#: latency on an idle server is at most this plus one SQLite transaction.
POLL_S = 0.05
#: How often running jobs are checked for cancellation, in s.
HEARTBEAT_S = 0.25
#: How often expired jobs are swept, in s.
SWEEP_S = 1.0
#: Least time between two progress writes of one job, in s.
PROGRESS_EVERY_S = 1.0


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
                error_message=f"the worker running this analysis stopped {lease.receives - 1} times",
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
        """Analyze (and render); ``None`` if the job was canceled."""
        spec, store = job.spec, self.backends.store
        result_key = annotated_id = None
        try:
            if job.upload_key is None:
                raise AnalyzerError("the upload of this analysis is gone")
            with self.backends.uploads.local_copy(job.upload_key) as path:
                sniff(path)  # a direct upload (POST /uploads) was never sniffed by the API
                total = job.frames_total
                if total is None:
                    total = frames_to_analyze(path, spec.sample_fps)
                store.progress(job.id, "analyzing", 0, total)
                last = [0.0]

                def report(frames_done: int) -> None:
                    if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                        last[0] = time.monotonic()
                        store.progress(job.id, "analyzing", frames_done, total)

                result = run_analysis(path, spec, self.pool, canceled=canceled, on_progress=report)
                stage = "rendering" if spec.annotate else "analyzing"
                store.progress(job.id, stage, result.processed_frames, total)  # the last count
                annotated_expires_at = None
                if spec.annotate:
                    annotated_id, ttl = self.renderer.render(
                        path, result, timeout_s=spec.timeout_s, canceled=canceled
                    )
                    annotated_expires_at = time.time() + ttl
            result_key = f"{job.id}.{secrets.token_hex(4)}.json"
            self.backends.results.put_bytes(result_key, result_json(result, spec))
            return Outcome(JobStatus.SUCCEEDED, result_key, annotated_id, annotated_expires_at)
        except JobCanceled:
            log.info("job %s canceled while running", job.id)
            self._drop_outputs(result_key, annotated_id)
            return None
        except AnalyzerError as exc:
            code = "internal" if type(exc) is AnalyzerError else exc.code
            return Outcome(JobStatus.FAILED, error_code=code, error_message=str(exc))
        except Exception:
            log.exception("job %s failed unexpectedly", job.id)
            self._drop_outputs(result_key, annotated_id)
            return Outcome(JobStatus.FAILED, error_code="internal", error_message="internal server error")

    # ------------------------------------------------------------------ files, expiry, webhooks

    def _drop_upload(self, job: Job) -> None:
        if job.upload_key is not None:
            self.backends.uploads.delete(job.upload_key)
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
                payload(job.id, str(job.status)),
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
    """Delete a job's upload, result and annotated video (those it has)."""
    if job.upload_key is not None:
        backends.uploads.delete(job.upload_key)
    if job.result_key is not None:
        backends.results.delete(job.result_key)
    if job.annotated_id is not None:
        annotated.delete(job.annotated_id)
