"""The pose model file: where it comes from and what it is.

``POSE_MODEL_PATH`` names a local ``.task`` file, used as given. Without it
the official MediaPipe ``pose_landmarker_full.task`` (pinned version 1) is
downloaded once into a cache directory and verified against its sha256;
pooch writes it to a temporary name and moves it into place only once the
hash matches, so a half-written file is never used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import platformdirs
import pooch

from analyzer.errors import ModelUnavailableError

MODEL_NAME = "pose_landmarker_full"
MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_full/float16/1/pose_landmarker_full.task"
)
MODEL_SHA256 = "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"
ENV_MODEL_PATH = "POSE_MODEL_PATH"
ENV_CACHE_DIR = "POSE_MODEL_CACHE_DIR"


@dataclass(frozen=True)
class ModelInfo:
    """Identity of the model file in use.

    Attributes:
        name: model name, ``pose_landmarker_full``.
        sha256: hex sha256 of the file actually loaded.
        path: local path of the file (not reported to clients).
    """

    name: str
    sha256: str
    path: Path

    def to_dict(self) -> dict[str, str]:
        """The JSON form: name and sha256 only (a server path is not for clients)."""
        return {"name": self.name, "sha256": self.sha256}


def cache_dir() -> Path:
    """Directory the official model is downloaded to: ``POSE_MODEL_CACHE_DIR``
    or the user cache directory (``~/.cache/dancepose`` on Linux)."""
    return Path(os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir("dancepose"))


def download_model(directory: Path | None = None) -> Path:
    """Download the official model to ``directory`` (default ``cache_dir()``)
    once and verify its sha256; an already valid file is reused.

    Raises:
        ModelUnavailableError: the download failed or the hash did not match.
    """
    directory = directory or cache_dir()
    try:
        return Path(
            pooch.retrieve(
                MODEL_URL,
                known_hash=f"sha256:{MODEL_SHA256}",
                fname=f"{MODEL_NAME}.task",
                path=directory,
                progressbar=False,
            )
        )
    except Exception as exc:  # network errors, hash mismatch, unwritable cache
        raise ModelUnavailableError(
            f"could not download the pose model from {MODEL_URL} ({exc.__class__.__name__}: "
            f"{exc}). Set {ENV_MODEL_PATH} to a local pose_landmarker_full.task file."
        ) from exc


def resolve_model_path() -> Path:
    """The model file to use: ``POSE_MODEL_PATH`` if set, else the verified
    download (see ``download_model``).

    Raises:
        ModelUnavailableError: ``POSE_MODEL_PATH`` names no readable file, or
            the download is impossible.
    """
    given = os.environ.get(ENV_MODEL_PATH)
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(f"{ENV_MODEL_PATH} is set to {given!r}, which is not a readable file")
        return path.resolve()
    return download_model()


@lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_info(path: Path) -> ModelInfo:
    """Name and sha256 of a model file (hashed once per file version).

    Raises:
        ModelUnavailableError: the file cannot be read.
    """
    try:
        stat = path.stat()
        return ModelInfo(MODEL_NAME, _sha256(path, stat.st_size, stat.st_mtime_ns), path)
    except OSError as exc:
        raise ModelUnavailableError(f"cannot read the pose model file: {exc.strerror}") from exc
