"""The settings that must agree across the Dockerfile, ``gunicorn.conf.py``,
``task-definition.json``, the CloudFormation templates and the service code
do: port, health check, timeouts, paths, names and sizes."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

import server
from analyzer.landmarks import model
from api.config import Config
from tests.deploy_files import (
    ROOT,
    container,
    dockerfile_args,
    dockerfile_env,
    dockerfile_instructions,
    environment,
    gunicorn_settings,
    healthcheck,
    one,
    render_task_definition,
    settings,
    task_environment,
    template,
)

#: sha256 of the offline test model (../shared/models/README.md).
OFFLINE_MODEL_SHA256 = "bf111a446f51603e46d42b36de09f5d150748f0947b9f523b5b1f871947cd2aa"
#: Fargate's largest stopTimeout, in seconds.
FARGATE_MAX_STOP_TIMEOUT = 120
#: Fargate's task sizes: vCPU units -> allowed memory in MiB.
FARGATE_SIZES = {
    256: {512, 1024, 2048},
    512: set(range(1024, 4097, 1024)),
    1024: set(range(2048, 8193, 1024)),
    2048: set(range(4096, 16385, 1024)),
    4096: set(range(8192, 30721, 1024)),
    8192: set(range(16384, 61441, 4096)),
    16384: set(range(32768, 122881, 8192)),
}


@pytest.fixture(scope="module")
def task() -> dict[str, Any]:
    """The rendered task definition."""
    return render_task_definition()


@pytest.fixture(scope="module", params=["image", "task"])
def environ(request: pytest.FixtureRequest, task: dict[str, Any]) -> dict[str, str]:
    """The service's environment as the image sets it, and as ECS runs it
    (the image's, overridden by the task definition's)."""
    env = dockerfile_env()
    return env if request.param == "image" else {**env, **task_environment(task)}


def service_config(environ: dict[str, str]) -> Config:
    """``api.config.Config`` as the service reads it from ``environ``."""
    with environment(environ):
        return Config()


def longest_request_s(environ: dict[str, str]) -> float:
    """The longest an /analyze request may wait without a byte sent back:
    the wait for a free worker plus the analysis time limit."""
    config = service_config(environ)
    return config.queue_wait_s + config.analysis_timeout_s


def test_base_images_are_pinned_and_equal() -> None:
    bases = [i.args.split()[0] for i in dockerfile_instructions() if i.keyword == "FROM"]
    assert len(bases) == 2
    assert len(set(bases)) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", bases[0])


def test_image_runs_gunicorn_as_non_root() -> None:
    assert one("CMD") == '["gunicorn", "-c", "gunicorn.conf.py", "server:app"]'
    user = one("USER").split(":")
    assert all(part.isdigit() and int(part) > 0 for part in user), "USER must be a fixed non-root uid:gid"


def test_port_agrees(task: dict[str, Any], environ: dict[str, str]) -> None:
    port = int(settings()["ContainerPort"])
    assert int(dockerfile_env()["PORT"]) == port
    assert one("EXPOSE") == str(port)
    assert [mapping["containerPort"] for mapping in container(task)["portMappings"]] == [port]
    assert gunicorn_settings(environ)["bind"] == f"0.0.0.0:{port}"


def test_target_group_checks_the_health_route() -> None:
    target_group = template("load-balancer.yaml")["Resources"]["TargetGroup"]["Properties"]
    assert target_group["HealthCheckPath"] == {"Fn::FindInMap": ["Service", "Settings", "HealthCheckPath"]}
    assert target_group["Matcher"] == {"HttpCode": "200"}
    assert target_group["TargetType"] == "ip"
    path = settings()["HealthCheckPath"]
    methods = {rule.rule: rule.methods for rule in server.app.url_map.iter_rules()}
    assert "GET" in methods[path]


def test_container_health_checks_agree(task: dict[str, Any]) -> None:
    options, command = healthcheck()
    ecs = container(task)["healthCheck"]
    assert ecs["command"] == ["CMD", *command]
    assert f"{ecs['interval']}s" == options["interval"]
    assert f"{ecs['timeout']}s" == options["timeout"]
    assert f"{ecs['startPeriod']}s" == options["start-period"]
    assert str(ecs["retries"]) == options["retries"]
    service = template("api-service.yaml")["Resources"]["Service"]["Properties"]
    assert service["HealthCheckGracePeriodSeconds"] >= ecs["startPeriod"]


@pytest.fixture()
def running_app() -> Iterator[int]:
    """The Flask app served on a free loopback port (no landmark workers start)."""
    httpd = make_server("127.0.0.1", 0, server.create_app())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()


def test_health_check_command_probes_the_health_route(running_app: int) -> None:
    _, command = healthcheck()
    assert command[0] == "python"
    probe = [sys.executable, *command[1:]]
    ok = subprocess.run(probe, env={"PORT": str(running_app)}, capture_output=True, timeout=30, check=False)
    assert ok.returncode == 0, ok.stderr
    closed = subprocess.run(probe, env={"PORT": "1"}, capture_output=True, timeout=30, check=False)
    assert closed.returncode != 0


def test_timeouts_outlast_the_longest_request(environ: dict[str, str]) -> None:
    longest = longest_request_s(environ)
    gunicorn = gunicorn_settings(environ)
    idle = int(settings()["IdleTimeout"])
    assert gunicorn["timeout"] > longest, "gunicorn would restart a worker mid-analysis"
    assert idle > longest, "the ALB would cut an analysis before it answers"
    assert gunicorn["keepalive"] > idle, "gunicorn must not close idle connections before the ALB does"
    assert int(settings()["DeregistrationDelay"]) >= longest, "draining must let an analysis finish"


def test_graceful_shutdown_fits_in_stop_timeout(task: dict[str, Any]) -> None:
    stop_timeout = container(task)["stopTimeout"]
    assert stop_timeout <= FARGATE_MAX_STOP_TIMEOUT
    graceful = gunicorn_settings({**dockerfile_env(), **task_environment(task)})["graceful_timeout"]
    assert graceful < stop_timeout, "ECS would SIGKILL gunicorn before its graceful shutdown ends"


def test_task_environment_is_read_by_the_service(task: dict[str, Any]) -> None:
    code = [ROOT / "server.py", ROOT / "gunicorn.conf.py", *ROOT.glob("analyzer/**/*.py")]
    code += [*ROOT.glob("api/**/*.py"), *ROOT.glob("jobs/**/*.py")]
    sources = "\n".join(path.read_text() for path in code)
    unread = [
        name
        for name in task_environment(task)
        if name != "TMPDIR" and not re.search(rf"[\"']{name}[\"']", sources)
    ]
    assert not unread, f"environment variables no code reads: {unread}"


def test_task_environment_matches_the_image(task: dict[str, Any]) -> None:
    image = dockerfile_env()
    shared = set(image) & set(task_environment(task))
    assert {"PORT", "POSE_MODEL_PATH", "UPLOAD_DIR", "TMPDIR"} <= shared
    assert {name: task_environment(task)[name] for name in shared} == {name: image[name] for name in shared}


def test_model_is_where_the_image_puts_it() -> None:
    assert dockerfile_env()["POSE_MODEL_PATH"] == f"/opt/model/{model.MODEL_NAME}.task"
    assert set(dockerfile_args()["MODEL_SHA256_ALLOWED"].split()) == {
        model.MODEL_SHA256,
        OFFLINE_MODEL_SHA256,
    }


def test_writable_paths_are_a_volume(task: dict[str, Any]) -> None:
    definition = container(task)
    assert definition["readonlyRootFilesystem"] is True
    volumes = {volume["name"] for volume in task["volumes"]}
    mounts = [m["containerPath"] for m in definition["mountPoints"] if m["sourceVolume"] in volumes]
    # Fargate gives a bind mount the image directory's owner only when the
    # Dockerfile declares the same path a VOLUME; otherwise root owns it.
    assert one("VOLUME") == f'["{mounts[0]}"]'
    env = task_environment(task)
    for name in ("UPLOAD_DIR", "TMPDIR"):
        assert any(Path(mount) in [Path(env[name]), *Path(env[name]).parents] for mount in mounts), name


def test_task_size_is_a_fargate_size(task: dict[str, Any]) -> None:
    cpu, memory = int(task["cpu"]), int(task["memory"])
    assert memory in FARGATE_SIZES[cpu]
    assert int(task_environment(task)["ANALYSIS_WORKERS"]) <= cpu // 1024, "one vCPU per landmark worker"


def test_names_agree_across_files(task: dict[str, Any]) -> None:
    cluster = template("cluster.yaml")["Resources"]
    service = template("api-service.yaml")
    assert task["executionRoleArn"].endswith(f":role/{cluster['ExecutionRole']['Properties']['RoleName']}")
    assert task["taskRoleArn"].endswith(f":role/{cluster['TaskRole']['Properties']['RoleName']}")
    logs = container(task)["logConfiguration"]["options"]
    assert logs["awslogs-group"] == cluster["LogGroup"]["Properties"]["LogGroupName"]
    (wiring,) = service["Resources"]["Service"]["Properties"]["LoadBalancers"]
    assert wiring["ContainerName"] == container(task)["name"]
    repository = template("ecr.yaml")["Resources"]["Repository"]["Properties"]["RepositoryName"]
    assert f"--repository-name {repository} " in (ROOT / "infra" / "deploy.sh").read_text()
    pattern = service["Parameters"]["TaskDefinitionArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, f"arn:aws:ecs:eu-west-1:123456789012:task-definition/{task['family']}:7")
