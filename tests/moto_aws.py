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
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from tests.conftest import free_port

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
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", free_port(), app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def create_resources(endpoint_url: str, max_attempts: int = 3, visibility_s: int = 30) -> AwsResources:
    """A bucket, a queue whose DLQ takes messages received ``max_attempts``
    times, and a table with the job store's indexes and TTL, all with a
    random suffix so that tests sharing one server never meet."""
    suffix = secrets.token_hex(4)
    resources = AwsResources(endpoint_url, f"dancepose-{suffix}", "", "", f"dancepose-jobs-{suffix}")
    s3, sqs, dynamodb = (resources.client(name) for name in ("s3", "sqs", "dynamodb"))
    s3.create_bucket(Bucket=resources.bucket)
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
