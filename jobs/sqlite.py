"""The embedded job store and queue: one SQLite database (stdlib
``sqlite3``) in WAL mode, shared by the API and worker processes of one
machine.

WAL lets readers (the API polling a job) run while a writer commits.
``synchronous=NORMAL`` with WAL loses no committed transaction when a
process is killed (only a power loss can undo the last ones:
https://www.sqlite.org/wal.html, "Performance Considerations"). Every
write that depends on what is stored runs in a ``BEGIN IMMEDIATE``
transaction, which takes the database's write lock first, so two
processes cannot both see a job live and both finish it.

Migration: a database made before jobs had kinds has no ``kind`` column;
the first connection adds it (``ALTER TABLE``, default ``analysis``: every
job of that time was one) in a ``BEGIN IMMEDIATE`` transaction, so that
two processes starting at once do not both add it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.backends import IdempotencyConflict, Lease
from jobs.records import FINAL, LIVE, Job, JobKind, JobStatus, Outcome, spec_from_json

#: How long an Idempotency-Key names its job, in s (the issue's 24 h).
IDEMPOTENCY_S = 24 * 3600.0
#: How long a connection waits for another process's write lock, in s.
BUSY_TIMEOUT_S = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    owner TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    stage TEXT NOT NULL,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    error_code TEXT,
    error_message TEXT,
    upload_key TEXT,
    result_key TEXT,
    annotated_id TEXT,
    annotated_expires_at REAL,
    callback_url TEXT,
    webhook TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'analysis'
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_by_expiry ON jobs (expires_at);
CREATE TABLE IF NOT EXISTS idempotency (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    job_id TEXT NOT NULL,
    options TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE IF NOT EXISTS queue (
    job_id TEXT PRIMARY KEY,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_visibility ON queue (visible_at, sent_at);
"""

_COLUMNS = (
    "id, status, spec, owner, created_at, updated_at, expires_at, stage, frames_done, frames_total, "
    "error_code, error_message, upload_key, result_key, annotated_id, annotated_expires_at, "
    "callback_url, webhook, attempts, kind"
)
_LIVE = tuple(str(status) for status in LIVE)
#: A job is visible while live, and once finished until it expires.
_VISIBLE = f"(status IN {_LIVE} OR expires_at > ?)"


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["status"] = JobStatus(values["status"])
    values["spec"] = spec_from_json(values.pop("kind"), values["spec"])
    return Job(**values)


def _add_kind(connection: sqlite3.Connection) -> None:
    """Give a database made before jobs had kinds its ``kind`` column
    (see the module's docstring)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        columns = {row["name"] for row in connection.execute("PRAGMA table_info(jobs)")}
        if "kind" not in columns:
            connection.execute("ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'analysis'")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class SQLiteDatabase:
    """One database file; a connection per process, opened on first use
    (a connection must not cross a ``fork``), used under a lock.

    Args:
        path: the database file (its directory is created).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
            _add_kind(connection)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads outside a transaction."""
        with self._lock:
            yield self._connect()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction, committed when the block ends
        and rolled back if it raises."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Close this process's connection."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


class SQLiteJobStore:
    """``jobs.backends.JobStore`` on SQLite."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.db = database

    def create(self, job: Job, idempotency_key: str | None) -> tuple[Job, bool]:
        owner = job.owner or ""
        options = job.spec.options_key()
        with self.db.write() as db:
            if idempotency_key is not None:
                row = db.execute(
                    "SELECT job_id, options, created_at FROM idempotency WHERE owner = ? AND key = ?",
                    (owner, idempotency_key),
                ).fetchone()
                if row is not None and row["created_at"] > job.created_at - IDEMPOTENCY_S:
                    earlier = db.execute(
                        f"SELECT {_COLUMNS} FROM jobs WHERE id = ? AND {_VISIBLE}",
                        (row["job_id"], job.created_at),
                    ).fetchone()
                    if earlier is not None:
                        if row["options"] != options:
                            raise IdempotencyConflict(idempotency_key)
                        return _job(earlier), False
                db.execute(
                    "INSERT OR REPLACE INTO idempotency (owner, key, job_id, options, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (owner, idempotency_key, job.id, options, job.created_at),
                )
            db.execute(
                f"INSERT INTO jobs ({_COLUMNS}) VALUES ({', '.join('?' * 20)})",
                (
                    job.id,
                    str(job.status),
                    job.spec.to_json(),
                    job.owner,
                    job.created_at,
                    job.updated_at,
                    job.expires_at,
                    job.stage,
                    job.frames_done,
                    job.frames_total,
                    job.error_code,
                    job.error_message,
                    job.upload_key,
                    job.result_key,
                    job.annotated_id,
                    job.annotated_expires_at,
                    job.callback_url,
                    job.webhook,
                    job.attempts,
                    str(job.kind),
                ),
            )
        return job, True

    def get(self, job_id: str) -> Job | None:
        with self.db.read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE id = ? AND {_VISIBLE}", (job_id, time.time())
            ).fetchone()
        return None if row is None else _job(row)

    def list_owned(
        self, owner: str, limit: int, before: tuple[float, str] | None, kind: JobKind = JobKind.ANALYSIS
    ) -> list[Job]:
        after = "AND (created_at < ? OR (created_at = ? AND id < ?)) " if before else ""
        cursor = (before[0], before[0], before[1]) if before else ()
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE owner = ? AND kind = ? AND {_VISIBLE} {after}"
                "ORDER BY created_at DESC, id DESC LIMIT ?",
                (owner, str(kind), time.time(), *cursor, limit),
            ).fetchall()
        return [_job(row) for row in rows]

    def start(self, job_id: str, attempt: int) -> Job | None:
        with self.db.write() as db:
            changed = db.execute(
                "UPDATE jobs SET status = ?, stage = 'analyzing', attempts = ?, updated_at = ? "
                f"WHERE id = ? AND status IN {_LIVE}",
                (str(JobStatus.RUNNING), attempt, time.time(), job_id),
            ).rowcount
            row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if changed and row is not None else None

    def progress(self, job_id: str, stage: str, frames_done: int, frames_total: int | None) -> bool:
        with self.db.write() as db:
            return bool(
                db.execute(
                    "UPDATE jobs SET stage = ?, frames_done = ?, frames_total = ?, updated_at = ? "
                    "WHERE id = ? AND status = ?",
                    (stage, frames_done, frames_total, time.time(), job_id, str(JobStatus.RUNNING)),
                ).rowcount
            )

    def finish(self, job_id: str, outcome: Outcome, ttl_s: float) -> bool:
        now = time.time()
        with self.db.write() as db:
            return bool(
                db.execute(
                    "UPDATE jobs SET status = ?, stage = 'done', result_key = ?, annotated_id = ?, "
                    "annotated_expires_at = ?, error_code = ?, error_message = ?, updated_at = ?, "
                    "expires_at = ?, webhook = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END "
                    f"WHERE id = ? AND status IN {_LIVE}",
                    (
                        str(outcome.status),
                        outcome.result_key,
                        outcome.annotated_id,
                        outcome.annotated_expires_at,
                        outcome.error_code,
                        outcome.error_message,
                        now,
                        now + ttl_s,
                        job_id,
                    ),
                ).rowcount
            )

    def cancel(self, job_id: str, ttl_s: float) -> Job | None:
        now = time.time()
        with self.db.write() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE id = ? AND {_VISIBLE}", (job_id, now)
            ).fetchone()
            if row is not None and row["status"] in _LIVE:
                db.execute(
                    "UPDATE jobs SET status = ?, stage = 'done', updated_at = ?, expires_at = ?, "
                    "webhook = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END WHERE id = ?",
                    (str(JobStatus.CANCELED), now, now + ttl_s, job_id),
                )
        return None if row is None else _job(row)

    def forget_upload(self, job_id: str) -> None:
        with self.db.write() as db:
            db.execute("UPDATE jobs SET upload_key = NULL WHERE id = ?", (job_id,))

    def set_webhook(self, job_id: str, state: str) -> None:
        with self.db.write() as db:
            db.execute("UPDATE jobs SET webhook = ? WHERE id = ?", (state, job_id))

    def pending_webhooks(self) -> list[Job]:
        final = tuple(str(status) for status in FINAL)
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE webhook = 'pending' AND status IN {final}"
            ).fetchall()
        return [_job(row) for row in rows]

    def delete(self, job_id: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            db.execute("DELETE FROM idempotency WHERE job_id = ?", (job_id,))

    def expired(self, now: float, limit: int) -> list[Job]:
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE expires_at <= ? AND status NOT IN {_LIVE} "
                "ORDER BY expires_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [_job(row) for row in rows]

    def counts(self) -> dict[JobStatus, int]:
        with self.db.read() as db:
            rows = db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return {JobStatus(row["status"]): row["n"] for row in rows}


class SQLiteJobQueue:
    """``jobs.backends.JobQueue`` on SQLite, with SQS's semantics (see
    ``jobs.backends``): a receive hides the message until its lease ends and
    gives it a new receipt."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.db = database

    def send(self, job_id: str) -> None:
        now = time.time()
        with self.db.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO queue (job_id, sent_at, visible_at) VALUES (?, ?, ?)",
                (job_id, now, now),
            )

    def receive(self, lease_s: float) -> Lease | None:
        now = time.time()
        with self.db.write() as db:
            row = db.execute(
                "SELECT job_id FROM queue WHERE visible_at <= ? ORDER BY visible_at, sent_at LIMIT 1", (now,)
            ).fetchone()
            if row is None:
                return None
            receipt = secrets.token_hex(16)
            found = db.execute(
                "UPDATE queue SET visible_at = ?, receives = receives + 1, receipt = ? WHERE job_id = ? "
                "RETURNING receives",
                (now + lease_s, receipt, row["job_id"]),
            ).fetchone()
        return Lease(row["job_id"], receipt, found["receives"])

    def extend(self, lease: Lease, lease_s: float) -> bool:
        with self.db.write() as db:
            return bool(
                db.execute(
                    "UPDATE queue SET visible_at = ? WHERE job_id = ? AND receipt = ?",
                    (time.time() + lease_s, lease.job_id, lease.receipt),
                ).rowcount
            )

    def delete(self, lease: Lease) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM queue WHERE job_id = ? AND receipt = ?", (lease.job_id, lease.receipt))
