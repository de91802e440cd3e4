"""The embedded object store: files in a local directory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class LocalObjectStore:
    """``jobs.backends.ObjectStore`` on a local directory: one file per key.

    The directory is not created here: the API and the worker create it at
    start-up (``create``), so that a missing directory shows at once as an
    error rather than being made silently somewhere unexpected.

    Args:
        directory: where the files live.
        prefix: prepended to every file name, so that the store can share a
            directory (such as ``UPLOAD_DIR``) with other files.
    """

    def __init__(self, directory: str | Path, prefix: str = "") -> None:
        self.directory = Path(directory)
        self.prefix = prefix

    def create(self) -> None:
        """Create the directory (mode 0700) if it does not exist."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a valid object key: {key!r}")
        return self.directory / f"{self.prefix}{key}"

    def put_file(self, key: str, source: Path) -> None:
        """Move ``source`` into the store (a rename when on one file system),
        readable by this user only: the directory may be shared (``/tmp``)."""
        target = self._path(key)
        shutil.move(source, target)
        target.chmod(0o600)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` to a temporary file, then rename it into place, so
        that a reader never sees half an object."""
        target = self._path(key)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def get_bytes(self, key: str) -> bytes | None:
        """The file's bytes, or ``None`` if it does not exist."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The file itself (already local).

        Raises:
            FileNotFoundError: no object under ``key``.
        """
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(path)
        yield path

    def size(self, key: str) -> int | None:
        """The file's size in bytes, or ``None`` if it does not exist."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, key: str) -> BinaryIO | None:
        """The file opened for reading (the caller closes it), or ``None``
        if it does not exist."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        """Remove the file, if it exists."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def keys(self) -> Iterator[str]:
        """Every key stored (temporary files of ``put_bytes`` excluded)."""
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if path.name.startswith(self.prefix) and not path.name.startswith("."):
                yield path.name[len(self.prefix) :]
