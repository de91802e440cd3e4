"""Uploads on disk: a private directory per request, always removed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.datastructures import FileStorage


@contextmanager
def saved_upload(upload: FileStorage, directory: str) -> Iterator[Path]:
    """Save an upload under a generated name in a private temporary
    directory, and remove both when the block ends, however it ends."""
    private = tempfile.mkdtemp(prefix="dancepose-", dir=directory)
    try:
        path = Path(private) / "upload"
        upload.save(path)
        yield path
    finally:
        shutil.rmtree(private, ignore_errors=True)
