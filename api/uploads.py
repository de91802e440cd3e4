"""Uploads on disk: a private directory per request, always removed, and
the checks an upload passes before its job is queued."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.datastructures import FileStorage

from analyzer.errors import UndecodableVideoError
from analyzer.video import VideoLimits, probe, sniff


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


def check_upload(path: Path, limits: VideoLimits) -> None:
    """Refuse a saved upload now for what its first bytes and its container's
    header show (milliseconds, no decoding). A container with no decodable
    frame passes: its job fails with ``undecodable_video``, as the analysis
    finds it.

    Raises:
        NotAVideoError: the content is not a video container (415).
        VideoTooLargeError: the container declares a video past ``limits`` (413).
    """
    sniff(path)
    with contextlib.suppress(UndecodableVideoError):
        limits.check_declared(probe(path))
