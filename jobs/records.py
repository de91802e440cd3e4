"""What a job is: its kind (an analysis or a comparison), its request
(``JobSpec``, ``ComparisonSpec``), its stored record (``Job``), its
statuses and its id."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import ClassVar


class JobKind(StrEnum):
    """The work a job does. One engine runs both: the same records, queue,
    leases, attempts, cancellation, expiry, idempotency and webhooks.

    ``analysis``: one video's poses (``POST /analyses``, ``POST /analyze``).
    ``comparison``: a performance video against a reference video
    (``POST /comparisons``, ``POST /compare``).
    """

    ANALYSIS = "analysis"
    COMPARISON = "comparison"


class JobStatus(StrEnum):
    """Where a job is in its lifecycle. ``queued`` and ``running`` are live;
    the other three are final and never change again."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)

#: Code of a job whose worker died ``JOB_MAX_ATTEMPTS`` times while running it.
WORKER_LOST = "worker_lost"


def new_job_id() -> str:
    """A new job id: ``secrets.token_urlsafe(24)``, 192 random bits in 32
    URL-safe characters. An id is the capability to read a job's result, so
    it must not be guessable (the issue asks for at least 128 bits)."""
    return secrets.token_urlsafe(24)


#: Pattern of a job id (``new_job_id``).
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{32}$"


@dataclass(frozen=True)
class JobSpec:
    """What to analyze and how: the client's options, resolved against the
    server's defaults at submission, plus the limits the worker enforces.

    Attributes:
        poses: the ``poses`` field as sent (names or JSON), ``None`` for all;
            parsed again by the worker (``analyzer.poses.definitions.parse_selection``).
        include_frames: keep ``frames`` in the result (``include=frames``).
        annotate: render the annotated video (``annotate=1``).
        smoothing_ms: score smoothing window, in ms (``None``: the analyzer's default).
        min_segment_ms: shortest segment reported, in ms (``None``: default).
        sample_fps: analyze at most this many frames per second (``None``: all).
        filename: the upload's (sanitized) file name, reported in ``video.filename``.
        timeout_s: time limit of the analysis, in s (``ANALYSIS_TIMEOUT_S``).
        max_duration_s, max_frames, max_pixels: the video limits
            (``analyzer.video.VideoLimits``) in force when the job was submitted.
    """

    poses: str | None = None
    include_frames: bool = False
    annotate: bool = False
    smoothing_ms: float | None = None
    min_segment_ms: float | None = None
    sample_fps: float | None = None
    filename: str = "upload"
    timeout_s: float | None = None
    max_duration_s: float | None = None
    max_frames: int | None = None
    max_pixels: int | None = None

    KIND: ClassVar[JobKind] = JobKind.ANALYSIS
    #: The fields a client chooses; two submissions with one Idempotency-Key
    #: must agree on them.
    CLIENT_FIELDS: ClassVar[tuple[str, ...]] = (
        "poses",
        "include_frames",
        "annotate",
        "smoothing_ms",
        "min_segment_ms",
        "sample_fps",
    )

    def options_key(self) -> str:
        """Canonical JSON of the client's options, compared for idempotency."""
        return json.dumps({name: getattr(self, name) for name in self.CLIENT_FIELDS}, sort_keys=True)

    def to_json(self) -> str:
        """The spec as JSON (stored with the job)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        """The spec ``to_json`` wrote."""
        return cls(**json.loads(text))

    @staticmethod
    def upload_objects(upload_key: str) -> dict[str, str]:
        """The upload store's key of the video, by role: the upload itself."""
        return {"video": upload_key}


@dataclass(frozen=True)
class ComparisonSpec:
    """What to compare and how: a performance video against a reference
    video (``analyzer.compare.videos.compare_videos``), with the client's
    options resolved against the server's defaults at submission.

    Attributes:
        include_frames: keep both videos' ``frames`` in the result (``include=frames``).
        sample_fps: analyze at most this many frames per second of each video (``None``: all).
        reference_filename, performance_filename: the uploads' (sanitized)
            file names, reported in ``reference.filename`` and ``performance.filename``.
        timeout_s: time limit of each video's landmarks, in s (``ANALYSIS_TIMEOUT_S``).
        max_duration_s, max_frames, max_pixels: the video limits in force
            when the job was submitted, for each video.
    """

    include_frames: bool = False
    sample_fps: float | None = None
    reference_filename: str = "reference"
    performance_filename: str = "performance"
    timeout_s: float | None = None
    max_duration_s: float | None = None
    max_frames: int | None = None
    max_pixels: int | None = None

    KIND: ClassVar[JobKind] = JobKind.COMPARISON
    #: The videos of a comparison, in the order they are analyzed
    #: (``analyzer.compare.videos.ROLES``).
    ROLES: ClassVar[tuple[str, str]] = ("reference", "performance")
    #: The fields a client chooses (see ``JobSpec.CLIENT_FIELDS``).
    CLIENT_FIELDS: ClassVar[tuple[str, ...]] = ("include_frames", "sample_fps")

    def options_key(self) -> str:
        """Canonical JSON of the client's options and of the kind, so that
        an Idempotency-Key used for an analysis conflicts with a comparison."""
        options = {name: getattr(self, name) for name in self.CLIENT_FIELDS}
        return json.dumps({"kind": str(self.KIND), **options}, sort_keys=True)

    def to_json(self) -> str:
        """The spec as JSON (stored with the job)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ComparisonSpec:
        """The spec ``to_json`` wrote."""
        return cls(**json.loads(text))

    @classmethod
    def upload_objects(cls, upload_key: str) -> dict[str, str]:
        """The upload store's keys of the two videos, by role:
        ``<upload_key>.reference`` and ``<upload_key>.performance``."""
        return {role: f"{upload_key}.{role}" for role in cls.ROLES}


#: The spec of each kind of job, which reads it back from the stored JSON.
SPECS: dict[JobKind, type[JobSpec] | type[ComparisonSpec]] = {
    JobKind.ANALYSIS: JobSpec,
    JobKind.COMPARISON: ComparisonSpec,
}


def spec_from_json(kind: str | None, text: str) -> JobSpec | ComparisonSpec:
    """A stored spec, read as its kind says; a record written before jobs
    had kinds (``kind`` ``None``) is an analysis.

    Raises:
        ValueError: an unknown kind.
    """
    return SPECS[JobKind(kind or JobKind.ANALYSIS)].from_json(text)


@dataclass
class Job:
    """A job record, as stored.

    Attributes:
        id: ``new_job_id()``.
        status: see ``JobStatus``.
        spec: what to analyze or compare; its class says the job's ``kind``.
        owner: who submitted it (a digest of the API key; ``None`` without keys).
        created_at, updated_at: Unix time, in s.
        expires_at: Unix time after which the job and its files are deleted, in s.
        stage: ``queued``, ``analyzing``, ``rendering``, then ``done``.
        frames_done: frames analyzed so far.
        frames_total: frames expected (the container's claim), ``None`` if unknown.
        error_code, error_message: why a ``failed`` job failed.
        upload_key: names the upload(s) in the upload store (``None`` once
            deleted); ``upload_objects`` gives their keys.
        result_key: the result JSON in the result store (``None`` before success).
        annotated_id: id of the annotated video in the annotated store.
        annotated_expires_at: when that video is deleted, Unix time in s.
        callback_url: where to POST the webhook when the job ends.
        webhook: ``None`` (no callback), ``pending``, ``delivered`` or ``failed``.
        attempts: times a worker started the job.
    """

    id: str
    status: JobStatus
    spec: JobSpec | ComparisonSpec
    owner: str | None
    created_at: float
    updated_at: float
    expires_at: float
    stage: str = "queued"
    frames_done: int = 0
    frames_total: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    upload_key: str | None = None
    result_key: str | None = None
    annotated_id: str | None = None
    annotated_expires_at: float | None = None
    callback_url: str | None = None
    webhook: str | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        """Whether the job is in a final status."""
        return self.status in FINAL

    @property
    def kind(self) -> JobKind:
        """What the job does, as its spec says."""
        return self.spec.KIND

    def upload_objects(self) -> dict[str, str]:
        """The upload store's keys of the job's videos, by role (``{}``
        once deleted)."""
        return {} if self.upload_key is None else self.spec.upload_objects(self.upload_key)


@dataclass(frozen=True)
class Outcome:
    """How a run of a job ended, written by ``JobStore.finish``.

    Attributes:
        status: ``succeeded`` or ``failed``.
        result_key: the stored result (success only).
        annotated_id, annotated_expires_at: the annotated video, if rendered.
        error_code, error_message: why it failed (failure only).
    """

    status: JobStatus
    result_key: str | None = None
    annotated_id: str | None = None
    annotated_expires_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None
