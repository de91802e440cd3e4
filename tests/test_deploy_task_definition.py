"""The task definitions of the API (``task-definition.json``) and of the job
worker (``infra/worker-task-definition.json``), as ``infra/deploy.sh``
renders them, are valid ``ecs register-task-definition`` input by the ECS
API model in botocore."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from tests.deploy_files import (
    ACCOUNT,
    BUCKET,
    IMAGE,
    INFRA,
    QUEUE_URL,
    REGION,
    SECRET_ARN,
    SERVICES,
    TABLE,
    container,
    render_task_definition,
    task_environment,
    task_secrets,
)


def register_task_definition_input() -> Any:
    """The input shape of ECS ``RegisterTaskDefinition``."""
    ecs = botocore.session.get_session().get_service_model("ecs")
    return ecs.operation_model("RegisterTaskDefinition").input_shape


@pytest.mark.parametrize("service", SERVICES)
def test_rendered_task_definition_is_valid_input(service: str) -> None:
    task = render_task_definition(service)
    validate_parameters(task, register_task_definition_input())
    assert container(task)["image"] == IMAGE
    assert "${" not in json.dumps(task)
    assert f"arn:aws:iam::{ACCOUNT}:role/" in task["executionRoleArn"]
    assert f"arn:aws:iam::{ACCOUNT}:role/" in task["taskRoleArn"]
    assert container(task)["logConfiguration"]["options"]["awslogs-region"] == REGION
    env = task_environment(task)
    assert (env["JOB_BUCKET"], env["JOB_QUEUE_URL"], env["JOB_TABLE"]) == (BUCKET, QUEUE_URL, TABLE)
    assert env["AWS_REGION"] == REGION


@pytest.mark.parametrize("service", SERVICES)
def test_webhook_secret_comes_from_secrets_manager(service: str) -> None:
    """The API needs WEBHOOK_SECRET to accept a callback_url, the worker to
    sign: both take it from the jobs stack's secret by ARN, so the value is
    in no file, parameter or task definition; and neither lifts the
    webhooks' SSRF rules, which are for tests only."""
    task = render_task_definition(service)
    assert task_secrets(task) == {"WEBHOOK_SECRET": SECRET_ARN}
    env = task_environment(task)
    assert not {"WEBHOOK_SECRET", "WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE"} & set(env)


def test_the_services_have_their_own_task_definitions() -> None:
    api, worker = (render_task_definition(service) for service in SERVICES)
    assert api["family"] != worker["family"]
    assert api["taskRoleArn"] != worker["taskRoleArn"]


def test_validator_rejects_a_wrong_field() -> None:
    task = render_task_definition()
    container(task)["stopTimeout"] = "120"
    with pytest.raises(ParamValidationError, match="stopTimeout"):
        validate_parameters(task, register_task_definition_input())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["api", "12345", REGION, IMAGE, BUCKET, QUEUE_URL, TABLE, SECRET_ARN], "not an AWS account id"),
        (["web", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, TABLE, SECRET_ARN], "not a service"),
        (
            ["worker", ACCOUNT, REGION, IMAGE, "Bucket_1", QUEUE_URL, TABLE, SECRET_ARN],
            "not an S3 bucket name",
        ),
        (
            ["worker", ACCOUNT, REGION, IMAGE, BUCKET, "http://example.com/q", TABLE, SECRET_ARN],
            "not an SQS queue URL",
        ),
        (["api", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, "a b", SECRET_ARN], "not a DynamoDB table name"),
        (
            ["api", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, TABLE, "WebhookSecret"],
            "not the ARN of a Secrets",
        ),
        (
            [
                "worker",
                ACCOUNT,
                REGION,
                IMAGE,
                BUCKET,
                QUEUE_URL,
                TABLE,
                SECRET_ARN.replace(ACCOUNT, "210987654321"),
            ],
            "not the ARN of a Secrets",
        ),
        (
            [
                "worker",
                ACCOUNT,
                REGION,
                IMAGE,
                BUCKET,
                QUEUE_URL,
                TABLE,
                SECRET_ARN.replace(REGION, "us-east-1"),
            ],
            "not the ARN of a Secrets",
        ),
        (
            [
                "api",
                ACCOUNT,
                REGION,
                IMAGE,
                BUCKET,
                QUEUE_URL,
                TABLE,
                SECRET_ARN.replace(":secret:", ":parameter:"),
            ],
            "not the ARN of a Secrets",
        ),
        (["api", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, TABLE], "usage"),
    ],
)
def test_render_refuses_bad_values(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        ["bash", str(INFRA / "deploy.sh"), "render-task-definition", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not result.stdout
