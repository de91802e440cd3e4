"""Service settings read from the environment."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

from analyzer.video import VideoLimits
from jobs.settings import JobSettings


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _workers() -> int:
    return int(os.environ.get("ANALYSIS_WORKERS") or os.cpu_count() or 1)


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Config:
    """Service settings, read from the environment (see the README's table).

    Attributes:
        max_upload_mb: largest accepted upload, in MB (``MAX_UPLOAD_MB``).
        analysis_timeout_s: time limit of one analysis, in s (``ANALYSIS_TIMEOUT_S``).
        queue_wait_s: how long a request waits for a free worker before a
            503, in s (``QUEUE_WAIT_S``).
        upload_dir: where uploads are kept while analyzed (``UPLOAD_DIR``,
            default: the system temp directory).
        sample_fps: default of the ``sample_fps`` parameter (``SAMPLE_FPS``,
            default: unset, every frame is analyzed).
        max_video_s: longest video accepted, in s of video (``MAX_VIDEO_SECONDS``).
        max_frames: most frames accepted (``MAX_FRAMES``).
        max_frame_pixels: largest frame accepted, width x height (``MAX_FRAME_PIXELS``).
        max_pending: analyses running or waiting at once; past it an upload
            gets 503 at once (``MAX_PENDING_ANALYSES``, default: 2 x workers).
        api_keys: accepted ``X-API-Key`` values (``API_KEYS``, comma-separated;
            empty: no key needed).
        rate_limit: uploads per client (``RATE_LIMIT``, Flask-Limiter syntax;
            empty: no limit).
        cors_origins: origins browsers may call the API from (``CORS_ORIGINS``,
            comma-separated, ``*`` for any; empty: same origin only).
        forwarded_hops: trusted proxies in front of the service whose
            ``X-Forwarded-For`` entry gives the client address
            (``FORWARDED_HOPS``; 1 behind the ALB, 0 when exposed directly).
        result_inline_max_bytes: largest result put inline in ``GET
            /analyses/{id}``; larger ones are fetched from its ``result_url``
            (``RESULT_INLINE_MAX_BYTES``, default 1 000 000).
        results_via_api: ``result_url`` is the API's ``GET
            /analyses/{id}/result`` even when results live in S3, rather than
            a presigned S3 URL (``RESULTS_VIA_API``).
        jobs: the job engine's settings (``jobs.settings.JobSettings``: the
            job database, ``JOB_*``, ``WEBHOOK_*``, annotated videos).
    """

    max_upload_mb: float = field(default_factory=lambda: _env_float("MAX_UPLOAD_MB", 200.0))
    analysis_timeout_s: float = field(default_factory=lambda: _env_float("ANALYSIS_TIMEOUT_S", 300))
    queue_wait_s: float = field(default_factory=lambda: _env_float("QUEUE_WAIT_S", 30))
    upload_dir: str = field(default_factory=lambda: os.environ.get("UPLOAD_DIR") or tempfile.gettempdir())
    sample_fps: float | None = field(
        default_factory=lambda: float(os.environ["SAMPLE_FPS"]) if os.environ.get("SAMPLE_FPS") else None
    )
    max_video_s: float = field(default_factory=lambda: _env_float("MAX_VIDEO_SECONDS", 600))
    max_frames: int = field(default_factory=lambda: int(_env_float("MAX_FRAMES", 36000)))
    max_frame_pixels: int = field(default_factory=lambda: int(_env_float("MAX_FRAME_PIXELS", 3840 * 2160)))
    max_pending: int = field(
        default_factory=lambda: int(os.environ.get("MAX_PENDING_ANALYSES") or 2 * _workers())
    )
    api_keys: tuple[str, ...] = field(default_factory=lambda: _env_list("API_KEYS"))
    rate_limit: str = field(default_factory=lambda: os.environ.get("RATE_LIMIT", "30 per minute"))
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _env_list("CORS_ORIGINS"))
    forwarded_hops: int = field(default_factory=lambda: int(_env_float("FORWARDED_HOPS", 1)))
    result_inline_max_bytes: int = field(
        default_factory=lambda: int(_env_float("RESULT_INLINE_MAX_BYTES", 1_000_000))
    )
    results_via_api: bool = field(
        default_factory=lambda: os.environ.get("RESULTS_VIA_API", "").strip().lower() in {"1", "true", "on"}
    )
    jobs: JobSettings = field(default_factory=JobSettings)

    @property
    def video_limits(self) -> VideoLimits:
        """The video limits analyses enforce."""
        return VideoLimits(self.max_video_s, self.max_frames, self.max_frame_pixels)
