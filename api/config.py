"""Service settings read from the environment."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    """Service settings, read from the environment (see the README's table).

    Attributes:
        max_upload_mb: largest accepted upload, in MB (``MAX_UPLOAD_MB``).
        analysis_timeout_s: time limit of one analysis, in s (``ANALYSIS_TIMEOUT_S``).
        queue_wait_s: how long a request waits for a free worker before a
            503, in s (``QUEUE_WAIT_S``).
        workers: landmark worker processes (``ANALYSIS_WORKERS``, default: cores).
        upload_dir: where uploads are kept while analyzed (``UPLOAD_DIR``,
            default: the system temp directory).
        sample_fps: default of the ``sample_fps`` parameter (``SAMPLE_FPS``,
            default: unset, every frame is analyzed).
    """

    max_upload_mb: float = field(default_factory=lambda: _env_float("MAX_UPLOAD_MB", 200.0))
    analysis_timeout_s: float = field(default_factory=lambda: _env_float("ANALYSIS_TIMEOUT_S", 300))
    queue_wait_s: float = field(default_factory=lambda: _env_float("QUEUE_WAIT_S", 30))
    workers: int = field(
        default_factory=lambda: int(os.environ.get("ANALYSIS_WORKERS") or os.cpu_count() or 1)
    )
    upload_dir: str = field(default_factory=lambda: os.environ.get("UPLOAD_DIR") or tempfile.gettempdir())
    sample_fps: float | None = field(
        default_factory=lambda: float(os.environ["SAMPLE_FPS"]) if os.environ.get("SAMPLE_FPS") else None
    )
