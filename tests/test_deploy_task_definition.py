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
    SERVICES,
    TABLE,
    container,
    render_task_definition,
    task_environment,
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
        (["api", "12345", REGION, IMAGE, BUCKET, QUEUE_URL, TABLE], "not an AWS account id"),
        (["web", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, TABLE], "not a service"),
        (["worker", ACCOUNT, REGION, IMAGE, "Bucket_1", QUEUE_URL, TABLE], "not an S3 bucket name"),
        (["worker", ACCOUNT, REGION, IMAGE, BUCKET, "http://example.com/q", TABLE], "not an SQS queue URL"),
        (["api", ACCOUNT, REGION, IMAGE, BUCKET, QUEUE_URL, "a b"], "not a DynamoDB table name"),
        (["api", ACCOUNT, REGION, IMAGE], "usage"),
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
