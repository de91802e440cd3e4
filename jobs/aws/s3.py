"""``jobs.backends.ObjectStore`` on S3: one object per key under a prefix
of one bucket (``uploads/``, ``results/``), so that the bucket's lifecycle
rules can expire each prefix."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from jobs.aws.clients import client, error_code

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class S3ObjectStore:
    """Objects under ``prefix`` in ``bucket``.

    Args:
        bucket: the bucket (made by ``infra/jobs.yaml``, never here).
        prefix: prepended to every key, ending in ``/`` (``uploads/``).
        s3: a boto3 S3 client (default: ``jobs.aws.clients.client("s3")``).
    """

    def __init__(self, bucket: str, prefix: str, s3: Any | None = None) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.s3 = s3 if s3 is not None else client("s3")

    def object_key(self, key: str) -> str:
        """The S3 key of store key ``key``.

        Raises:
            ValueError: ``key`` has characters outside ``[A-Za-z0-9_.-]`` or is too long.
        """
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a valid object key: {key!r}")
        return self.prefix + key

    def create(self) -> None:
        """Check that the bucket exists and can be reached (``HeadBucket``).

        Raises:
            botocore.exceptions.ClientError: no such bucket, or no access.
        """
        self.s3.head_bucket(Bucket=self.bucket)

    def put_file(self, key: str, source: Path) -> None:
        """Upload ``source`` (multipart when large), then delete it."""
        self.s3.upload_file(str(source), self.bucket, self.object_key(key))
        Path(source).unlink()

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` (a PUT is atomic: a reader never sees half an object)."""
        self.s3.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` if there is none."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The object downloaded into a private temporary directory, removed
        when the block ends.

        Raises:
            FileNotFoundError: no object under ``key``.
        """
        with tempfile.TemporaryDirectory(prefix="dancepose-s3-") as directory:
            path = Path(directory) / "object"
            try:
                self.s3.download_file(self.bucket, self.object_key(key), str(path))
            except ClientError as exc:
                if error_code(exc) in {"NoSuchKey", "404"}:
                    raise FileNotFoundError(f"s3://{self.bucket}/{self.object_key(key)}") from None
                raise
            yield path

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers the same whether it existed or not)."""
        self.s3.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def keys(self) -> Iterator[str]:
        """Every key under the prefix."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]

    def size(self, key: str) -> int | None:
        """The object's size in bytes (``HeadObject``), or ``None`` if there is none."""
        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=self.object_key(key))["ContentLength"])
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise

    def open(self, key: str) -> Any | None:
        """The object's body as a stream (``GetObject``; ``read(n)``,
        ``close()``), or ``None`` if there is none."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise

    def head_bytes(self, key: str, count: int) -> bytes:
        """The object's first ``count`` bytes (a ranged GET)."""
        found = self.s3.get_object(Bucket=self.bucket, Key=self.object_key(key), Range=f"bytes=0-{count - 1}")
        return found["Body"].read()

    def presigned_post(self, key: str, max_bytes: int, expires_s: int) -> dict[str, Any]:
        """A presigned POST that lets a browser upload one video straight to
        the bucket under ``key``: its policy allows 1 to ``max_bytes``
        bytes (``content-length-range``) and a ``Content-Type`` starting
        with ``video/``, for ``expires_s`` seconds.

        Returns:
            ``{"url", "fields"}``: POST ``fields`` then the file (field
            ``file``, last) as ``multipart/form-data`` to ``url``.
        """
        return self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Conditions=[["content-length-range", 1, max_bytes], ["starts-with", "$Content-Type", "video/"]],
            ExpiresIn=expires_s,
        )

    def presigned_get(self, key: str, expires_s: int) -> str:
        """A URL that GETs the object without credentials for ``expires_s``
        seconds (SigV4 query signature, at most 7 days)."""
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=expires_s
        )
