"""The settings that must agree across the Dockerfile, ``gunicorn.conf.py``,
the API's and the worker's task definitions, the CloudFormation templates
and the service code do: port, health check, timeouts, paths, names, sizes
and the job engine's settings."""

from __future__ import annotations

import math
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
from jobs.settings import JobSettings
from tests.deploy_files import (
    BUCKET,
    QUEUE_URL,
    ROOT,
    SERVICES,
    TABLE,
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
    task_secrets,
    template,
)

#: sha256 of the offline test model (../shared/models/README.md).
OFFLINE_MODEL_SHA256 = "bf111a446f51603e46d42b36de09f5d150748f0947b9f523b5b1f871947cd2aa"
#: CPU-seconds of one analysis of a 15 s phone clip, what the worker
#: service's scaling target assumes (BENCHMARKS.md: the hip-hop clip, 6.32 s
#: wall at 97 % of 2 cores).
CPU_S_PER_JOB = 6.32 * 0.97 * 2
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
    """The API's rendered task definition."""
    return render_task_definition("api")


@pytest.fixture(scope="module")
def worker() -> dict[str, Any]:
    """The job worker's rendered task definition."""
    return render_task_definition("worker")


@pytest.fixture(scope="module", params=SERVICES)
def any_task(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each service's rendered task definition in turn."""
    return render_task_definition(request.param)


def job_settings(task_definition: dict[str, Any]) -> JobSettings:
    """``jobs.settings.JobSettings`` as a task of ``task_definition`` reads
    it (the image's environment, overridden by the task's)."""
    with environment({**dockerfile_env(), **task_environment(task_definition)}):
        return JobSettings()


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


def test_worker_drain_fits_in_stop_timeout(worker: dict[str, Any]) -> None:
    """``python -m jobs`` waits ``GRACEFUL_TIMEOUT_S`` for its running jobs
    after SIGTERM (a protected task gets SIGTERM only between jobs, or when
    its protection expires)."""
    stop_timeout = container(worker)["stopTimeout"]
    assert stop_timeout <= FARGATE_MAX_STOP_TIMEOUT
    assert float(task_environment(worker)["GRACEFUL_TIMEOUT_S"]) < stop_timeout


#: Task environment read by Python or boto3 themselves, not by our code.
READ_BY_LIBRARIES = {"TMPDIR", "AWS_REGION"}


def test_task_environment_is_read_by_the_service(any_task: dict[str, Any]) -> None:
    code = [ROOT / "server.py", ROOT / "gunicorn.conf.py", *ROOT.glob("analyzer/**/*.py")]
    code += [*ROOT.glob("api/**/*.py"), *ROOT.glob("jobs/**/*.py")]
    sources = "\n".join(path.read_text() for path in code)
    unread = [
        name
        for name in task_environment(any_task)
        if name not in READ_BY_LIBRARIES and not re.search(rf"[\"']{name}[\"']", sources)
    ]
    assert not unread, f"environment variables no code reads: {unread}"


def test_task_environment_matches_the_image(any_task: dict[str, Any]) -> None:
    image, env = dockerfile_env(), task_environment(any_task)
    shared = set(image) & set(env)
    assert {"POSE_MODEL_PATH", "TMPDIR"} <= shared
    assert {name: env[name] for name in shared} == {name: image[name] for name in shared}


def test_api_task_serves_and_queues_jobs_for_the_workers(task: dict[str, Any]) -> None:
    """The API runs no job worker beside gunicorn, and both services use
    the AWS backends on the jobs stack's resources as deploy.sh filled them in."""
    assert {"PORT", "UPLOAD_DIR"} <= set(task_environment(task)) & set(dockerfile_env())
    api = job_settings(task)
    assert api.embedded_worker is False
    assert (api.backend, api.bucket, api.queue_url, api.table) == ("aws", BUCKET, QUEUE_URL, TABLE)


def test_worker_task_runs_the_job_worker(worker: dict[str, Any]) -> None:
    definition = container(worker)
    assert definition["command"] == ["python", "-m", "jobs"]
    assert "portMappings" not in definition, "nothing reaches a worker"
    # The image's HEALTHCHECK probes gunicorn's /health, which a worker does
    # not serve; ECS ignores an image's health check unless the task repeats
    # it, and an essential container that exits stops its task.
    assert "healthCheck" not in definition and definition["essential"] is True
    settings = job_settings(worker)
    assert (settings.backend, settings.bucket, settings.queue_url, settings.table) == (
        "aws",
        BUCKET,
        QUEUE_URL,
        TABLE,
    )
    assert settings.concurrency == settings.workers, "one job per landmark worker"


def test_api_and_worker_read_the_same_job_settings(task: dict[str, Any], worker: dict[str, Any]) -> None:
    """What both sides of a job must agree on (attempts, lease, expiry, where
    things are), as each task reads it."""
    api, runner = job_settings(task), job_settings(worker)
    for name in ("backend", "bucket", "queue_url", "table", "max_attempts", "lease_s", "ttl_s"):
        assert getattr(api, name) == getattr(runner, name), name
    assert api.annotated_ttl_s == runner.annotated_ttl_s
    assert task_environment(task)["POSE_MODEL_PATH"] == task_environment(worker)["POSE_MODEL_PATH"]


def test_both_tasks_have_the_webhook_key_and_keep_the_ssrf_rules(any_task: dict[str, Any]) -> None:
    """As ECS starts a task (the image's environment, the task's, and the
    values of its ``secrets``), ``JobSettings`` has a webhook key: the API
    accepts a ``callback_url`` and the worker signs. ``http://`` and private
    callback addresses stay refused: those switches are for tests."""
    value = "K" * 64
    secrets = dict.fromkeys(task_secrets(any_task), value)
    with environment({**dockerfile_env(), **task_environment(any_task), **secrets}):
        read = JobSettings()
    assert read.webhook_secret == value
    assert read.webhook_allow_http is False and read.webhook_allow_private is False
    assert not any(name.startswith("WEBHOOK_") for name in dockerfile_env())


def test_worker_scaling_target_keeps_the_wait_within_queue_wait(
    task: dict[str, Any], worker: dict[str, Any]
) -> None:
    """At the worker service's target, the jobs waiting per task are done
    within QUEUE_WAIT_S, after which POST /analyze gives up on a job that
    has not started."""
    target = template("worker-service.yaml")["Parameters"]["JobsPerTaskTarget"]["Default"]
    running = job_settings(worker).concurrency
    waiting = target - running
    vcpus = int(worker["cpu"]) / 1024
    queue_wait_s = service_config({**dockerfile_env(), **task_environment(task)}).queue_wait_s
    assert waiting >= 1, "the target must leave room above the jobs a task runs at once"
    assert waiting * CPU_S_PER_JOB / vcpus <= queue_wait_s


def test_jobs_stack_defaults_agree_with_the_tasks(task: dict[str, Any], worker: dict[str, Any]) -> None:
    """deploy.sh deploys infra/jobs.yaml with these defaults: the queue's
    visibility timeout covers the longest job (the API's ANALYSIS_TIMEOUT_S
    goes into every job's spec, plus 120 s of rendering and upload, as
    gunicorn's timeout has), its maxReceiveCount is JOB_MAX_ATTEMPTS (the
    backend refuses to start otherwise), and S3 keeps results as long as
    job records live."""
    parameters = template("jobs.yaml")["Parameters"]
    analysis_timeout_s = service_config({**dockerfile_env(), **task_environment(task)}).analysis_timeout_s
    assert parameters["JobVisibilityTimeoutS"]["Default"] == analysis_timeout_s + 120
    for read in (job_settings(task), job_settings(worker)):
        assert parameters["JobMaxAttempts"]["Default"] == read.max_attempts
        assert parameters["JobTtlDays"]["Default"] >= math.ceil(read.ttl_s / 86400)


def test_model_is_where_the_image_puts_it() -> None:
    assert dockerfile_env()["POSE_MODEL_PATH"] == f"/opt/model/{model.MODEL_NAME}.task"
    assert set(dockerfile_args()["MODEL_SHA256_ALLOWED"].split()) == {
        model.MODEL_SHA256,
        OFFLINE_MODEL_SHA256,
    }


def test_writable_paths_are_a_volume(any_task: dict[str, Any]) -> None:
    definition = container(any_task)
    assert definition["readonlyRootFilesystem"] is True
    volumes = {volume["name"] for volume in any_task["volumes"]}
    mounts = [m["containerPath"] for m in definition["mountPoints"] if m["sourceVolume"] in volumes]
    # Fargate gives a bind mount the image directory's owner only when the
    # Dockerfile declares the same path a VOLUME; otherwise root owns it.
    assert one("VOLUME") == f'["{mounts[0]}"]'
    env = {**dockerfile_env(), **task_environment(any_task)}
    for name in ("UPLOAD_DIR", "TMPDIR", "MPLCONFIGDIR"):
        assert any(Path(mount) in [Path(env[name]), *Path(env[name]).parents] for mount in mounts), name


def test_task_size_is_a_fargate_size(any_task: dict[str, Any]) -> None:
    cpu, memory = int(any_task["cpu"]), int(any_task["memory"])
    assert memory in FARGATE_SIZES[cpu]
    # The API task runs no landmark worker (it has no ANALYSIS_WORKERS).
    workers = int(task_environment(any_task).get("ANALYSIS_WORKERS", 0))
    assert workers <= cpu // 1024, "one vCPU per landmark worker"


#: Each service's task definition, its template in infra/ and its task role
#: in infra/cluster.yaml.
SERVICE_FILES = {
    "api": ("api-service.yaml", "ApiTaskRole"),
    "worker": ("worker-service.yaml", "WorkerTaskRole"),
}


@pytest.mark.parametrize("name", SERVICES)
def test_names_agree_across_files(name: str) -> None:
    task = render_task_definition(name)
    service_file, role = SERVICE_FILES[name]
    cluster = template("cluster.yaml")["Resources"]
    service = template(service_file)
    assert task["executionRoleArn"].endswith(f":role/{cluster['ExecutionRole']['Properties']['RoleName']}")
    assert task["taskRoleArn"].endswith(f":role/{cluster[role]['Properties']['RoleName']}")
    logs = container(task)["logConfiguration"]["options"]
    assert logs["awslogs-group"] == cluster["LogGroup"]["Properties"]["LogGroupName"]
    for wiring in service["Resources"]["Service"]["Properties"].get("LoadBalancers", []):
        assert wiring["ContainerName"] == container(task)["name"]
    repository = template("ecr.yaml")["Resources"]["Repository"]["Properties"]["RepositoryName"]
    assert f"--repository-name {repository} " in (ROOT / "infra" / "deploy.sh").read_text()
    pattern = service["Parameters"]["TaskDefinitionArn"]["AllowedPattern"]
    arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/{}:7"
    assert re.fullmatch(pattern, arn.format(task["family"]))
    other = render_task_definition(next(s for s in SERVICES if s != name))
    assert not re.fullmatch(pattern, arn.format(other["family"])), "a service must not take the other's task"
