"""Annotated videos on disk for a limited time, within a count and a size cap.

The directory is the whole state: a file ``<id>.mp4`` whose modification
time is older than the time limit is expired. Every ``add`` sweeps (expired
files, then the oldest beyond the caps, never the file just added), and a
timer sweeps again when the next file expires, so files go on time even when
no request comes; a new process sweeps what an old one left on its first
use. Ids are ``secrets.token_urlsafe(18)``: 144 random bits, not guessable.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path

#: The id of an annotated video (``secrets.token_urlsafe(18)``: 144 random bits).
VIDEO_ID_PATTERN = r"^[A-Za-z0-9_-]{24}$"
_ID = re.compile(VIDEO_ID_PATTERN)


class AnnotatedStore:
    """Keeps MP4 files for ``ttl_s`` seconds.

    Args:
        directory: where the files live (created, mode 0700, on first use).
        ttl_s: seconds a file is kept after it is added.
        max_files: most files kept.
        max_bytes: most bytes kept, not counting the newest file (which is
            kept whatever its size, so the disk holds at most ``max_bytes``
            plus one file).
    """

    def __init__(self, directory: str | Path, ttl_s: float, max_files: int, max_bytes: int) -> None:
        if ttl_s <= 0 or max_files < 1 or max_bytes < 0:
            raise ValueError("need ttl_s > 0, max_files >= 1 and max_bytes >= 0")
        self.directory = Path(directory)
        self.ttl_s, self.max_files, self.max_bytes = ttl_s, max_files, max_bytes
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._ready = False

    def add(self, source: Path) -> tuple[str, float]:
        """Move a finished MP4 into the store.

        Returns:
            Its new id and the seconds until it expires.
        """
        self._prepare(create=True)
        video_id = secrets.token_urlsafe(18)
        target = self.directory / f"{video_id}.mp4"
        shutil.move(source, target)
        os.utime(target)  # the time limit counts from now
        self.sweep(keep=target)
        return video_id, self.ttl_s

    def find(self, video_id: str) -> tuple[Path, float] | None:
        """The file of an id and its seconds left, or ``None`` if the id is
        malformed, unknown or expired."""
        if not _ID.fullmatch(video_id):
            return None
        self._prepare(create=False)
        path = self.directory / f"{video_id}.mp4"
        try:
            left = self.ttl_s - (time.time() - path.stat().st_mtime)
        except OSError:
            return None
        return (path, left) if left > 0 else None

    def delete(self, video_id: str) -> None:
        """Delete a video now (nothing if the id is malformed or unknown)."""
        if _ID.fullmatch(video_id):
            with contextlib.suppress(OSError):
                (self.directory / f"{video_id}.mp4").unlink()

    def sweep(self, keep: Path | None = None) -> None:
        """Delete expired files, then the oldest beyond the caps (never
        ``keep``), and set a timer for the next expiry."""
        with self._lock:
            now = time.time()
            files = []
            for path in self.directory.glob("*.mp4"):
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    if now - stat.st_mtime >= self.ttl_s:
                        path.unlink()
                    else:
                        files.append((stat.st_mtime, stat.st_size, path))
            files.sort(key=lambda entry: (entry[2] == keep, entry[0]))  # oldest first, ``keep`` last
            others = sum(size for _, size, path in files if path != keep)
            while files and files[0][2] != keep and (len(files) > self.max_files or others > self.max_bytes):
                _, size, path = files.pop(0)
                others -= size
                with contextlib.suppress(OSError):
                    path.unlink()
            self._schedule(min((mtime for mtime, _, _ in files), default=None), now)

    def _schedule(self, oldest: float | None, now: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if oldest is not None:
            self._timer = threading.Timer(max(0.0, oldest + self.ttl_s - now) + 0.5, self.sweep)
            self._timer.daemon = True
            self._timer.start()

    def _prepare(self, *, create: bool) -> None:
        """Sweep what an earlier process left, once; create the directory
        first if ``create`` (a lookup does not create it)."""
        if self._ready:
            return
        if create:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not self.directory.is_dir():
            return
        self._ready = True
        self.sweep()

    def close(self) -> None:
        """Stop the expiry timer (files stay until a later sweep)."""
        with self._lock:
            self._schedule(None, time.time())
