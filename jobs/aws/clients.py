"""boto3 clients for the AWS backends.

Retries are botocore's: the ``standard`` retry mode (exponential backoff
with jitter, a retry quota, retries on throttling and 5xx:
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html)
unless ``AWS_RETRY_MODE`` chooses ``adaptive`` or ``legacy``;
``AWS_MAX_ATTEMPTS`` caps the attempts. Region, credentials and endpoint
come from boto3's own settings (``AWS_REGION``, the task role,
``AWS_ENDPOINT_URL`` for a local stand-in such as moto's server).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

#: botocore's retry mode when ``AWS_RETRY_MODE`` is unset.
DEFAULT_RETRY_MODE = "standard"


def client(service: str) -> Any:
    """A boto3 client of ``service`` (``s3``, ``sqs``, ``dynamodb``) with
    botocore's retry mode (``AWS_RETRY_MODE``, default ``standard``)."""
    mode = os.environ.get("AWS_RETRY_MODE") or DEFAULT_RETRY_MODE
    config = Config(retries={"mode": mode}, signature_version="s3v4" if service == "s3" else None)
    return boto3.session.Session().client(service, config=config)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` otherwise)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
