"""``task-definition.json``, as ``infra/deploy.sh`` renders it, is a valid
``ecs register-task-definition`` input by the ECS API model in botocore."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from tests.deploy_files import ACCOUNT, IMAGE, INFRA, REGION, container, render_task_definition


def register_task_definition_input() -> Any:
    """The input shape of ECS ``RegisterTaskDefinition``."""
    ecs = botocore.session.get_session().get_service_model("ecs")
    return ecs.operation_model("RegisterTaskDefinition").input_shape


def test_rendered_task_definition_is_valid_input() -> None:
    task = render_task_definition()
    validate_parameters(task, register_task_definition_input())
    assert container(task)["image"] == IMAGE
    assert "${" not in json.dumps(task)
    assert f"arn:aws:iam::{ACCOUNT}:role/" in task["executionRoleArn"]
    assert container(task)["logConfiguration"]["options"]["awslogs-region"] == REGION


def test_validator_rejects_a_wrong_field() -> None:
    task = render_task_definition()
    container(task)["stopTimeout"] = "120"
    with pytest.raises(ParamValidationError, match="stopTimeout"):
        validate_parameters(task, register_task_definition_input())


def test_render_refuses_bad_values() -> None:
    result = subprocess.run(
        ["bash", str(INFRA / "deploy.sh"), "render-task-definition", "12345", REGION, IMAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "not an AWS account id" in result.stderr
