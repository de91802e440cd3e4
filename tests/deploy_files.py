"""Readers of the deployment files that ``tests/test_deploy_*.py`` check:
the Dockerfile, the task definitions of the API (``task-definition.json``)
and of the job worker (``infra/worker-task-definition.json``) as
``infra/deploy.sh`` renders them,
the CloudFormation templates in ``infra/`` and the settings gunicorn derives
from an environment."""

from __future__ import annotations

import json
import os
import re
import runpy
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode.cfn_yaml import load as load_cfn_yaml

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))

#: Values ``render_task_definition`` fills the placeholders with.
ACCOUNT = "123456789012"
REGION = "eu-west-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/dancepose:0123456789ab"
#: The jobs stack's outputs ``render_task_definition`` fills in by default.
BUCKET = "dancepose-jobs-bucket-1a2b3c4d5e6f"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/dancepose-jobs-Queue-AbC123"
TABLE = "dancepose-jobs-Table-XyZ789"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:WebhookSecret-Ab12Cd34Ef56-GhIj78"
#: The services ``deploy.sh`` renders a task definition for.
SERVICES = ("api", "worker")


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: ``keyword`` upper-cased, ``args`` as written."""

    keyword: str
    args: str


def dockerfile_instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in text.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            instructions.append(Instruction(keyword.upper(), args.strip()))
    return instructions


def final_stage() -> list[Instruction]:
    """Instructions of the last build stage (the image that runs)."""
    instructions = dockerfile_instructions()
    start = max(i for i, instruction in enumerate(instructions) if instruction.keyword == "FROM")
    return instructions[start:]


def dockerfile_env() -> dict[str, str]:
    """``ENV`` of the running image (``KEY=VALUE`` pairs of the final stage)."""
    env: dict[str, str] = {}
    for instruction in final_stage():
        if instruction.keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(instruction.args))
    return env


def dockerfile_args() -> dict[str, str]:
    """Defaults of the Dockerfile's ``ARG``s."""
    args: dict[str, str] = {}
    for instruction in dockerfile_instructions():
        if instruction.keyword == "ARG":
            name, _, default = shlex.split(instruction.args)[0].partition("=")
            args[name] = default
    return args


def one(keyword: str) -> str:
    """Arguments of the final stage's only ``keyword`` instruction."""
    found = [instruction.args for instruction in final_stage() if instruction.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the final stage, found {len(found)}"
    return found[0]


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """The ``HEALTHCHECK``: its options (``{"interval": "30s", ...}``) and exec-form command."""
    options, _, command = one("HEALTHCHECK").partition(" CMD ")
    parsed = dict(option.removeprefix("--").split("=", 1) for option in options.split())
    return parsed, json.loads(command)


def render_task_definition(
    service: str = "api",
    bucket: str = BUCKET,
    queue_url: str = QUEUE_URL,
    table: str = TABLE,
    secret_arn: str = SECRET_ARN,
) -> dict[str, Any]:
    """The task definition of ``service`` (``api`` or ``worker``) after
    ``infra/deploy.sh render-task-definition``, given the jobs stack's outputs."""
    command = [
        "render-task-definition",
        service,
        ACCOUNT,
        REGION,
        IMAGE,
        bucket,
        queue_url,
        table,
        secret_arn,
    ]
    rendered = subprocess.run(
        ["bash", str(INFRA / "deploy.sh"), *command], capture_output=True, text=True, check=True
    )
    return json.loads(rendered.stdout)


def container(task_definition: Mapping[str, Any]) -> dict[str, Any]:
    """The task definition's only container."""
    (definition,) = task_definition["containerDefinitions"]
    return definition


def task_environment(task_definition: Mapping[str, Any]) -> dict[str, str]:
    """The container's ``environment`` as a dict."""
    return {item["name"]: item["value"] for item in container(task_definition)["environment"]}


def task_secrets(task_definition: Mapping[str, Any]) -> dict[str, str]:
    """The container's ``secrets`` as a dict: variable -> the ARN ECS reads it from."""
    return {item["name"]: item["valueFrom"] for item in container(task_definition).get("secrets", [])}


def template(name: str) -> dict[str, Any]:
    """A CloudFormation template of ``infra/``, short-form tags decoded."""
    return load_cfn_yaml(str(INFRA / name))


def settings() -> dict[str, Any]:
    """The ``Service.Settings`` mapping of ``infra/load-balancer.yaml``."""
    return template("load-balancer.yaml")["Mappings"]["Service"]["Settings"]


@contextmanager
def environment(environ: Mapping[str, str]) -> Iterator[None]:
    """Run the block with exactly ``environ`` as ``os.environ``."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def gunicorn_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The names ``gunicorn.conf.py`` defines when run with exactly ``environ``."""
    with environment(environ):
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))
