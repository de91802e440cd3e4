"""Annotated videos in S3 (``JOB_BACKEND=aws``): the worker that renders a
video uploads it under ``annotated/``; any API task then finds it, and
``GET /annotated/{id}.mp4`` answers with a short-lived presigned GET URL
(or streams it when ``ANNOTATED_VIA_API`` is set). The interface is
``jobs.annotated_store.AnnotatedStore``'s ``add``, ``delete`` and ``close``.

Expiry: a video is found for ``ttl_s`` after it was stored (its
``LastModified``); the bucket's lifecycle rule on ``annotated/`` deletes
it later (S3 expires in whole days), and a job's expiry deletes it at once.
The local store's count and size caps do not apply: S3 has room.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from jobs.annotated_store import VIDEO_ID_PATTERN
from jobs.aws.clients import client, error_code

_ID = re.compile(VIDEO_ID_PATTERN)
#: Key prefix of annotated videos in the bucket.
PREFIX = "annotated/"


class S3AnnotatedStore:
    """Annotated MP4s under ``annotated/`` in ``bucket``, kept ``ttl_s``.

    Args:
        bucket: the bucket.
        ttl_s: seconds a video is served after it is added.
        stream: serve videos through the API (``ANNOTATED_VIA_API``) rather
            than by redirecting to a presigned URL.
        s3: a boto3 S3 client (default: ``jobs.aws.clients.client("s3")``).
    """

    def __init__(self, bucket: str, ttl_s: float, stream: bool = False, s3: Any | None = None) -> None:
        if ttl_s <= 0:
            raise ValueError("need ttl_s > 0")
        self.bucket, self.ttl_s, self.stream = bucket, ttl_s, stream
        self.s3 = s3 if s3 is not None else client("s3")

    def add(self, source: Path) -> tuple[str, float]:
        """Upload a finished MP4 (then delete the local file).

        Returns:
            Its new id (``secrets.token_urlsafe(18)``, 144 random bits) and its seconds to live.
        """
        video_id = secrets.token_urlsafe(18)
        self.s3.upload_file(
            str(source), self.bucket, PREFIX + f"{video_id}.mp4", ExtraArgs={"ContentType": "video/mp4"}
        )
        Path(source).unlink()
        return video_id, self.ttl_s

    def left_s(self, video_id: str) -> float | None:
        """Seconds left to a stored video, or ``None`` if the id is
        malformed, unknown or expired (``HeadObject``)."""
        if not _ID.fullmatch(video_id):
            return None
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=PREFIX + f"{video_id}.mp4")
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        left = self.ttl_s - (time.time() - head["LastModified"].timestamp())
        return left if left > 0 else None

    def presigned_url(self, video_id: str, expires_s: float) -> str:
        """A GET URL of the video valid for ``expires_s`` (rounded up, at least 1 s)."""
        return self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": PREFIX + f"{video_id}.mp4"},
            ExpiresIn=max(1, int(expires_s) + 1),
        )

    def get(self, video_id: str, byte_range: str | None) -> dict[str, Any]:
        """``GetObject`` of the video, with an HTTP ``Range`` if given (its
        ``Body`` streams; ``ContentRange`` is set for a range)."""
        extra = {"Range": byte_range} if byte_range else {}
        return self.s3.get_object(Bucket=self.bucket, Key=PREFIX + f"{video_id}.mp4", **extra)

    def delete(self, video_id: str) -> None:
        """Delete a video now (nothing if the id is malformed or unknown)."""
        if _ID.fullmatch(video_id):
            self.s3.delete_object(Bucket=self.bucket, Key=PREFIX + f"{video_id}.mp4")

    def close(self) -> None:
        """Nothing to stop (the local store's timer has no S3 counterpart)."""
