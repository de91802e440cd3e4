"""AWS stood in for by moto's server on loopback, and the job engine's
resources in it (bucket, queue with dead-letter queue, table), made with
boto3 exactly as ``infra/jobs.yaml`` declares them."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3.models import s3_backends
from moto.s3.utils import cors_matches_origin
from werkzeug.serving import make_server

from tests.conftest import free_port
from tests.deploy_files import template

REGION = "us-east-1"


@dataclass(frozen=True)
class AwsResources:
    """Names and URLs of one set of the job engine's resources."""

    endpoint_url: str
    bucket: str
    queue_url: str
    dlq_url: str
    table: str

    def env(self) -> dict[str, str]:
        """The settings that point a service at these resources."""
        return {
            "JOB_BACKEND": "aws",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "JOB_BUCKET": self.bucket,
            "JOB_QUEUE_URL": self.queue_url,
            "JOB_TABLE": self.table,
            "JOB_SQS_WAIT_S": "0",
        }

    def client(self, service: str):
        """A boto3 client of ``service`` on the stand-in."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port, in a thread; yields its URL.

    It answers one request at a time (moto's ``ThreadedMotoServer`` minus
    the threads): moto's backends take no locks, so two concurrent
    conditional writes could both pass their condition, which DynamoDB
    itself never allows. Hence also ``JOB_SQS_WAIT_S=0`` in ``env``: a
    long poll would hold the only thread.
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # moto's server would otherwise allow any origin on every answer
    # (flask-cors), whatever the bucket says: browsers then prove nothing.
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    app = S3Cors(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", free_port(), app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


class S3Cors:
    """moto's WSGI app with S3's CORS as the bucket's rules say, so that a
    browser test shows whether ``infra/jobs.yaml``'s rules let the page in.

    moto answers a preflight (``OPTIONS``) from the bucket's rules, and adds
    them to a ``GET`` of an object, but not to the answer of a ``POST``
    upload nor of an error; S3 adds ``Access-Control-Allow-Origin`` to every
    answer whose ``Origin`` and method a rule of the bucket allows
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html), so this
    adds it where moto left it out. Path-style URLs only (``/bucket/key``),
    as boto3 makes them for an endpoint on an IP address.
    """

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        origin, method = environ.get("HTTP_ORIGIN"), environ["REQUEST_METHOD"]
        if not origin or method == "OPTIONS":
            return self.app(environ, start_response)
        bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]

        def start(status, headers, exc_info=None):
            if not any(name.lower() == "access-control-allow-origin" for name, _ in headers):
                headers = [*headers, *_cors_headers(bucket, origin, method)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _cors_headers(bucket: str, origin: str, method: str) -> list[tuple[str, str]]:
    """The CORS headers S3 adds for the first rule of ``bucket`` that allows
    ``origin`` and ``method`` (none: no such bucket or rule)."""
    partition, account = s3_backends.bucket_accounts.get(bucket, ("aws", DEFAULT_ACCOUNT_ID))
    found = s3_backends[account][partition].buckets.get(bucket)
    for rule in [] if found is None else found.cors:
        if cors_matches_origin(origin, rule.allowed_origins) and method in rule.allowed_methods:
            headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            if rule.exposed_headers:
                headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
            return headers
    return []


def bucket_cors() -> list[dict]:
    """The bucket's CORS rules as ``infra/jobs.yaml`` declares them (its
    ``PageOrigin`` parameter at its default), in ``PutBucketCors``'s shape."""
    jobs = template("jobs.yaml")
    rules = jobs["Resources"]["Bucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    parameters = {name: spec.get("Default") for name, spec in jobs["Parameters"].items()}

    def value(item):
        return parameters[item["Ref"]] if isinstance(item, dict) and "Ref" in item else item

    names = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}
    return [
        {
            names.get(key, key): [value(v) for v in item] if isinstance(item, list) else value(item)
            for key, item in rule.items()
        }
        for rule in rules
    ]


def create_resources(endpoint_url: str, max_attempts: int = 3, visibility_s: int = 30) -> AwsResources:
    """A bucket, a queue whose DLQ takes messages received ``max_attempts``
    times, and a table with the job store's indexes and TTL, all with a
    random suffix so that tests sharing one server never meet."""
    suffix = secrets.token_hex(4)
    resources = AwsResources(endpoint_url, f"dancepose-{suffix}", "", "", f"dancepose-jobs-{suffix}")
    s3, sqs, dynamodb = (resources.client(name) for name in ("s3", "sqs", "dynamodb"))
    s3.create_bucket(Bucket=resources.bucket)
    s3.put_bucket_cors(Bucket=resources.bucket, CORSConfiguration={"CORSRules": bucket_cors()})
    dlq_url = sqs.create_queue(QueueName=f"dancepose-jobs-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    redrive = {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(max_attempts)}
    queue_url = sqs.create_queue(
        QueueName=f"dancepose-jobs-{suffix}",
        Attributes={"VisibilityTimeout": str(visibility_s), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    string, number = "S", "N"
    dynamodb.create_table(
        TableName=resources.table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (
                ("pk", string),
                ("owner", string),
                ("created_key", string),
                ("expiry_part", string),
                ("expires_at", number),
                ("webhook_due", string),
            )
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_owner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "created_key", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_expiry",
                "KeySchema": [
                    {"AttributeName": "expiry_part", "KeyType": "HASH"},
                    {"AttributeName": "expires_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "webhooks",
                "KeySchema": [{"AttributeName": "webhook_due", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    )
    dynamodb.update_time_to_live(
        TableName=resources.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    return AwsResources(endpoint_url, resources.bucket, queue_url, dlq_url, resources.table)


@contextmanager
def aws_env(resources: AwsResources) -> Iterator[None]:
    """``os.environ`` pointing at ``resources`` for the block."""
    saved = dict(os.environ)
    os.environ.update(resources.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
