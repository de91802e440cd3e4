"""Settings of the job engine, read from the environment (the README's
table lists them). The API and the worker read the same variables."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.annotated_store import AnnotatedStore
from jobs.backends import Backends
from jobs.objects import LocalObjectStore
from jobs.sqlite import SQLiteDatabase, SQLiteJobQueue, SQLiteJobStore

if TYPE_CHECKING:
    from jobs.aws.annotated import S3AnnotatedStore

#: File-name prefix of uploads in ``UPLOAD_DIR``.
UPLOAD_PREFIX = "dancepose-job-"


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class JobSettings:
    """Settings of the job engine.

    Attributes:
        job_dir: the job database and stored results (``JOB_DIR``, default
            ``dancepose-jobs`` in the system temp directory).
        upload_dir: where uploads wait for their job (``UPLOAD_DIR``).
        ttl_s: how long a finished job, its result and annotated video are
            kept, in s (``JOB_TTL_S``, default 24 h).
        max_attempts: runs of a job whose worker died before it fails with
            ``worker_lost`` (``JOB_MAX_ATTEMPTS``, default 3).
        lease_s: how long a worker holds a job without a heartbeat, in s
            (``JOB_LEASE_S``, default 30): a job whose worker died runs again
            about this long after.
        concurrency: jobs one worker runs at once (``JOB_CONCURRENCY``,
            default ``ANALYSIS_WORKERS``).
        workers: landmark worker processes (``ANALYSIS_WORKERS``, default: cores).
        embedded_worker: whether gunicorn starts a job worker beside the API
            (``JOB_WORKER``, default on; ``0`` for an API-only service).
        webhook_secret: key of the webhooks' HMAC-SHA256 signature
            (``WEBHOOK_SECRET``; unset: ``callback_url`` is refused).
        webhook_allow_http: allow ``http://`` callback URLs (``WEBHOOK_ALLOW_HTTP``, tests only).
        webhook_allow_private: allow callbacks to loopback, private and
            link-local addresses (``WEBHOOK_ALLOW_PRIVATE``, tests only).
        webhook_retry_s: how long a webhook is retried, in s (``WEBHOOK_RETRY_S``, default 900).
        webhook_backoff_s: first wait between webhook attempts, doubled each
            time up to 5 min (``WEBHOOK_BACKOFF_S``, default 2).
        webhook_timeout_s: time limit of one webhook request, in s (``WEBHOOK_TIMEOUT_S``, default 10).
        annotated_dir: where annotated videos are kept (``ANNOTATED_DIR``,
            default: ``dancepose-annotated`` in the system temp directory).
        annotated_ttl_s: how long an annotated video is kept, in s (``ANNOTATED_TTL_S``).
        annotated_max_files: most annotated videos kept; the oldest go first
            (``ANNOTATED_MAX_FILES``).
        annotated_max_mb: most MB of annotated videos kept, beyond the newest
            one; the oldest go first (``ANNOTATED_MAX_MB``).
        annotate_workers: annotated videos rendered at once (``ANNOTATE_WORKERS``).
        backend: where jobs, messages and files live (``JOB_BACKEND``):
            ``embedded`` (default: SQLite and local directories, no server)
            or ``aws`` (DynamoDB, SQS and S3, shared by any number of tasks).
        bucket: the S3 bucket of uploads and results (``JOB_BUCKET``, ``aws`` only).
        queue_url: the SQS queue, which must have a dead-letter queue whose
            ``maxReceiveCount`` equals ``max_attempts`` (``JOB_QUEUE_URL``, ``aws`` only).
        table: the DynamoDB table (``JOB_TABLE``, ``aws`` only).
        annotated_via_api: stream annotated videos from S3 through the API
            instead of redirecting to a presigned URL (``ANNOTATED_VIA_API``).
        sqs_wait_s: long-poll time of an idle worker's receive, in s
            (``JOB_SQS_WAIT_S``, default 1, at most 20).
    """

    job_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("JOB_DIR") or os.path.join(tempfile.gettempdir(), "dancepose-jobs")
        )
    )
    upload_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("UPLOAD_DIR") or tempfile.gettempdir())
    )
    ttl_s: float = field(default_factory=lambda: _float("JOB_TTL_S", 24 * 3600))
    max_attempts: int = field(default_factory=lambda: int(_float("JOB_MAX_ATTEMPTS", 3)))
    lease_s: float = field(default_factory=lambda: _float("JOB_LEASE_S", 30))
    concurrency: int = field(
        default_factory=lambda: int(
            os.environ.get("JOB_CONCURRENCY") or os.environ.get("ANALYSIS_WORKERS") or os.cpu_count() or 1
        )
    )
    workers: int = field(
        default_factory=lambda: int(os.environ.get("ANALYSIS_WORKERS") or os.cpu_count() or 1)
    )
    embedded_worker: bool = field(default_factory=lambda: os.environ.get("JOB_WORKER", "1").strip() != "0")
    webhook_secret: str = field(default_factory=lambda: os.environ.get("WEBHOOK_SECRET", ""))
    webhook_allow_http: bool = field(default_factory=lambda: _flag("WEBHOOK_ALLOW_HTTP"))
    webhook_allow_private: bool = field(default_factory=lambda: _flag("WEBHOOK_ALLOW_PRIVATE"))
    webhook_retry_s: float = field(default_factory=lambda: _float("WEBHOOK_RETRY_S", 900))
    webhook_backoff_s: float = field(default_factory=lambda: _float("WEBHOOK_BACKOFF_S", 2))
    webhook_timeout_s: float = field(default_factory=lambda: _float("WEBHOOK_TIMEOUT_S", 10))

    annotated_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("ANNOTATED_DIR") or os.path.join(tempfile.gettempdir(), "dancepose-annotated")
        )
    )
    annotated_ttl_s: float = field(default_factory=lambda: _float("ANNOTATED_TTL_S", 900))
    annotated_max_files: int = field(default_factory=lambda: int(_float("ANNOTATED_MAX_FILES", 100)))
    annotated_max_mb: float = field(default_factory=lambda: _float("ANNOTATED_MAX_MB", 1000))
    annotate_workers: int = field(default_factory=lambda: int(_float("ANNOTATE_WORKERS", 1)))
    backend: str = field(default_factory=lambda: os.environ.get("JOB_BACKEND") or "embedded")
    bucket: str = field(default_factory=lambda: os.environ.get("JOB_BUCKET", ""))
    queue_url: str = field(default_factory=lambda: os.environ.get("JOB_QUEUE_URL", ""))
    table: str = field(default_factory=lambda: os.environ.get("JOB_TABLE", ""))
    annotated_via_api: bool = field(default_factory=lambda: _flag("ANNOTATED_VIA_API"))
    sqs_wait_s: float = field(default_factory=lambda: _float("JOB_SQS_WAIT_S", 1))

    def annotated_store(self) -> AnnotatedStore | S3AnnotatedStore:
        """The store of annotated videos these settings describe: S3 under
        ``annotated/`` with ``JOB_BACKEND=aws``, else ``annotated_dir``."""
        if self.backend == "aws":
            from jobs.aws.annotated import S3AnnotatedStore

            return S3AnnotatedStore(self.bucket, self.annotated_ttl_s, stream=self.annotated_via_api)
        return AnnotatedStore(
            self.annotated_dir,
            ttl_s=self.annotated_ttl_s,
            max_files=self.annotated_max_files,
            max_bytes=int(self.annotated_max_mb * 1024 * 1024),
        )

    def backends(self) -> Backends:
        """The backends ``backend`` names.

        Raises:
            ValueError: an unknown ``JOB_BACKEND``, or ``aws`` without its
                settings or with a queue whose redrive policy disagrees with
                ``JOB_MAX_ATTEMPTS``.
        """
        if self.backend == "aws":
            return self.aws_backends()
        if self.backend != "embedded":
            raise ValueError(f"JOB_BACKEND must be embedded or aws, not {self.backend!r}")
        return self.embedded_backends()

    def embedded_backends(self) -> Backends:
        """SQLite in ``job_dir``, results in ``job_dir/results``, uploads in ``upload_dir``."""
        database = SQLiteDatabase(self.job_dir / "jobs.sqlite3")
        return Backends(
            store=SQLiteJobStore(database),
            queue=SQLiteJobQueue(database),
            uploads=LocalObjectStore(self.upload_dir, prefix=UPLOAD_PREFIX),
            results=LocalObjectStore(self.job_dir / "results"),
        )

    def aws_backends(self) -> Backends:
        """DynamoDB ``table``, SQS ``queue_url``, S3 ``bucket`` (``uploads/``
        and ``results/``). See ``backends`` for the errors."""
        from jobs.aws.dynamodb import DynamoDBJobStore
        from jobs.aws.s3 import S3ObjectStore
        from jobs.aws.sqs import SQSJobQueue

        named = {"JOB_BUCKET": self.bucket, "JOB_QUEUE_URL": self.queue_url, "JOB_TABLE": self.table}
        missing = [name for name, value in named.items() if not value]
        if missing:
            raise ValueError(f"JOB_BACKEND=aws needs {', '.join(missing)}")
        queue = SQSJobQueue(self.queue_url, wait_s=self.sqs_wait_s)
        if queue.max_receive_count != self.max_attempts:
            raise ValueError(
                f"the queue's maxReceiveCount ({queue.max_receive_count}) must equal "
                f"JOB_MAX_ATTEMPTS ({self.max_attempts}): its dead-letter queue fails jobs with worker_lost"
            )
        return Backends(
            store=DynamoDBJobStore(self.table, webhook_claim_s=self.webhook_retry_s + 60),
            queue=queue,
            uploads=S3ObjectStore(self.bucket, "uploads/"),
            results=S3ObjectStore(self.bucket, "results/"),
        )
