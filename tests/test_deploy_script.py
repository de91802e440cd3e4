"""``infra/deploy.sh`` run end to end against stand-ins for the ``aws`` and
``docker`` commands that record every call and answer as AWS would: the
stacks in order with their parameters, and both task definitions rendered
from the jobs stack's outputs and registered before the services that run
them."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy_files import ACCOUNT, INFRA, REGION, template

#: What the stand-in ``aws`` answers for ``describe-stacks`` outputs.
OUTPUTS = {
    "RepositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/dancepose",
    "BucketName": "dancepose-jobs-bucket-0a1b2c3d4e5f",
    "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/dancepose-jobs-Queue-Q1W2E3R4",
    "TableName": "dancepose-jobs-Table-T5Y6U7I8",
    "WebhookSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:WebhookSecret-Z9X8C7V6B5N4-Mq1Wz2",
    "Url": "http://dancepose-load-bala-1.eu-west-1.elb.amazonaws.com",
}

#: The stand-in ``aws``: one line of JSON per call in $CALLS, canned answers.
FAKE_AWS = r"""#!/usr/bin/env python3
import json, os, re, shutil, sys
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(args) + "\n")
outputs = json.loads(os.environ["OUTPUTS"])
if args[:2] == ["sts", "get-caller-identity"]:
    print(os.environ["ACCOUNT"])
elif args[:2] == ["cloudformation", "describe-stacks"]:
    query = args[args.index("--query") + 1]
    print(outputs[re.search(r"OutputKey=='(\w+)'", query).group(1)])
elif args[:2] == ["ecs", "register-task-definition"]:
    path = args[args.index("--cli-input-json") + 1].removeprefix("file://")
    family = json.load(open(path))["family"]
    shutil.copy(path, os.path.join(os.environ["REGISTERED"], family + ".json"))
    print(f"arn:aws:ecs:{os.environ['AWS_REGION']}:{os.environ['ACCOUNT']}:task-definition/{family}:7")
elif args[:2] in (["cloudformation", "deploy"], ["ecr", "describe-images"]):
    pass  # a stack deployed; the image is already in ECR
else:
    sys.exit(f"fake aws: unexpected call {args}")
"""


@dataclass
class Run:
    """What one run of ``deploy.sh`` did."""

    calls: list[list[str]]
    registered: dict[str, dict]
    stdout: str

    def stacks(self) -> list[tuple[str, str, dict[str, str]]]:
        """``(stack name, template file, parameter overrides)`` in order."""
        deployed = []
        for call in self.calls:
            if call[:2] != ["cloudformation", "deploy"]:
                continue
            name = call[call.index("--stack-name") + 1]
            template_file = Path(call[call.index("--template-file") + 1]).name
            flag = "--parameter-overrides"
            overrides = call[call.index(flag) + 1 :] if flag in call else []
            deployed.append((name, template_file, dict(item.split("=", 1) for item in overrides)))
        return deployed


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``deploy.sh`` with the stand-ins first on PATH and the usual settings."""
    root = tmp_path_factory.mktemp("deploy")
    bin_dir, registered = root / "bin", root / "registered"
    bin_dir.mkdir()
    registered.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "docker").write_text('#!/bin/sh\necho "fake docker: unexpected call $*" >&2\nexit 1\n')
    for stand_in in bin_dir.iterdir():
        stand_in.chmod(0o755)
    calls = root / "calls.jsonl"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(root),
        "CALLS": str(calls),
        "REGISTERED": str(registered),
        "OUTPUTS": json.dumps(OUTPUTS),
        "ACCOUNT": ACCOUNT,
        "AWS_REGION": REGION,
        "VPC_ID": "vpc-0123456789abcdef0",
        "PUBLIC_SUBNET_IDS": "subnet-aaaa,subnet-bbbb",
        "WORKER_MAX_TASKS": "9",
    }
    done = subprocess.run(
        ["bash", str(INFRA / "deploy.sh")], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return Run(
        [json.loads(line) for line in calls.read_text().splitlines()],
        {path.stem: json.loads(path.read_text()) for path in registered.glob("*.json")},
        done.stdout,
    )


def test_stacks_are_deployed_in_order_with_their_parameters(run: Run) -> None:
    stacks = run.stacks()
    assert [(name, file) for name, file, _ in stacks] == [
        ("dancepose-ecr", "ecr.yaml"),
        ("dancepose-load-balancer", "load-balancer.yaml"),
        ("dancepose-jobs", "jobs.yaml"),
        ("dancepose-cluster", "cluster.yaml"),
        ("dancepose-api", "api-service.yaml"),
        ("dancepose-worker", "worker-service.yaml"),
    ]
    for _, template_file, overrides in stacks:
        assert set(overrides) <= set(template(template_file).get("Parameters", {})), template_file
    by_file = {file: overrides for _, file, overrides in stacks}
    assert by_file["api-service.yaml"]["TaskDefinitionArn"].endswith(":task-definition/dancepose-api:7")
    worker = by_file["worker-service.yaml"]
    assert worker["TaskDefinitionArn"].endswith(":task-definition/dancepose-worker:7")
    assert (worker["VpcId"], worker["SubnetIds"], worker["AssignPublicIp"]) == (
        "vpc-0123456789abcdef0",
        "subnet-aaaa,subnet-bbbb",
        "ENABLED",
    )
    assert worker["MaxTasks"] == "9" and "MinTasks" not in worker
    assert "MaxTasks" not in by_file["api-service.yaml"]
    assert run.stdout.rstrip().endswith(f"== deployed: {OUTPUTS['Url']}")


def test_both_task_definitions_are_registered_with_the_jobs_stack(run: Run) -> None:
    """Registered after the jobs and cluster stacks, before the services."""
    order = [
        call[1] if call[0] == "ecs" else call[call.index("--stack-name") + 1]
        for call in run.calls
        if call[:2] in (["ecs", "register-task-definition"], ["cloudformation", "deploy"])
    ]
    assert order.index("dancepose-cluster") < order.index("register-task-definition")
    assert len([step for step in order if step == "register-task-definition"]) == 2
    assert max(i for i, step in enumerate(order) if step == "register-task-definition") < order.index(
        "dancepose-api"
    )
    assert set(run.registered) == {"dancepose-api", "dancepose-worker"}
    for task in run.registered.values():
        (container,) = task["containerDefinitions"]
        env = {item["name"]: item["value"] for item in container["environment"]}
        assert (env["JOB_BUCKET"], env["JOB_QUEUE_URL"], env["JOB_TABLE"]) == (
            OUTPUTS["BucketName"],
            OUTPUTS["QueueUrl"],
            OUTPUTS["TableName"],
        )
        secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
        assert secrets == {"WEBHOOK_SECRET": OUTPUTS["WebhookSecretArn"]}
        assert container["image"].startswith(OUTPUTS["RepositoryUri"] + ":")
        assert task["taskRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
