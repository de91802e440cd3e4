"""``make cluster-check``: two service instances behind haproxy on one
machine, sharing jobs through the AWS backends with moto's server on
loopback standing in for S3, SQS and DynamoDB (AWS is the only thing
mocked). Each instance is a real gunicorn server (API + job worker) with
its own temp directories, as Fargate tasks have; haproxy balances round
robin. Prints one line per check, then ``cluster-check: PASS`` (exit 0)
or ``cluster-check: FAIL`` (exit 1).

Run: ``POSE_MODEL_PATH=... python -m tests.cluster_check`` (haproxy on PATH).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import requests

from tests.browser import chromium
from tests.conftest import Server, free_port, video
from tests.job_client import FINAL
from tests.moto_aws import AwsResources, create_resources, moto_server
from tests.test_api import ARM_CIRCLES, ARM_RAISES, landmark_workers
from tests.test_jobs_api import kill_tree

ATTEMPTS = 2
#: Analyses per address per minute the proxy's rate rule allows (it stands
#: in for the WAF rule of infra/jobs.yaml, which moto does not model).
RATE_LIMIT = 40

HAPROXY = """
global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    retries 3
    option redispatch
frontend cluster
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s store http_req_rate(60s)
    acl analysis method POST
    acl analysis_path path_beg /analy /uploads
    http-request track-sc0 src if analysis analysis_path
    http-request return status 429 content-type application/json hdr Retry-After 60 \
string "{{\\"error\\": {{\\"code\\": \\"too_many_requests\\", \\"message\\": \\"slow down\\"}}}}" \
if analysis analysis_path {{ sc_http_req_rate(0) gt {limit} }}
    default_backend instances
backend instances
    balance roundrobin
    http-response set-header X-Instance %s
    option httpchk GET /health
    server a 127.0.0.1:{port_a} check inter 500ms fall 2 rise 1
    server b 127.0.0.1:{port_b} check inter 500ms fall 2 rise 1
"""


class Cluster:
    """moto, two instances and haproxy."""

    def __init__(self, aws: AwsResources, root: Path) -> None:
        self.aws, self.root = aws, root
        self.env = {
            **aws.env(),
            "ANALYSIS_WORKERS": "1",
            "JOB_LEASE_S": "3",
            "JOB_MAX_ATTEMPTS": str(ATTEMPTS),
            # Results come from their presigned S3 URLs, as large ones do.
            "RESULT_INLINE_MAX_BYTES": "1000",
        }
        self.instances: dict[str, Server] = {}
        self.starts = 0
        for name in ("a", "b"):
            self.start(name)
        self.port = free_port()
        config = root / "haproxy.cfg"
        config.write_text(
            HAPROXY.format(
                port=self.port,
                limit=RATE_LIMIT,
                port_a=self.instances["a"].port,
                port_b=self.instances["b"].port,
            )
        )
        self.haproxy_log = (root / "haproxy.log").open("w")
        self.haproxy = subprocess.Popen(
            ["haproxy", "-f", str(config), "-db"], stdout=self.haproxy_log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait(lambda: get(self.url + "/health").status_code == 200, 30)

    def start(self, name: str) -> None:
        """Start instance ``name`` (again) on the port haproxy knows, with fresh temp dirs."""
        self.starts += 1
        tmp = self.root / f"{name}-{self.starts}"
        tmp.mkdir()
        old = self.instances.get(name)
        self.instances[name] = Server(self.env, tmp, port=None if old is None else old.port)

    def close(self) -> None:
        self.haproxy.terminate()
        self.haproxy.wait(10)
        for server in self.instances.values():
            if server.process.poll() is None:
                server.stop()


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=30, headers={"Connection": "close"}, **kwargs)


def wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.2)


def submit_file(url: str, path: Path, params: dict[str, str] | None = None) -> requests.Response:
    with path.open("rb") as handle:
        return requests.post(
            url + "/analyses", files={"video": (path.name, handle, "video/mp4")}, params=params, timeout=60
        )


class Followed(NamedTuple):
    """A job polled through the proxy until it ended."""

    body: dict
    answered: set[str]  # the instances that answered the polls
    failures: int  # polls not answered 200
    progressed: bool  # a poll showed it running with frames done


def follow(url: str, job_id: str, timeout: float = 240) -> Followed:
    """Poll a job through the proxy until it ends."""
    answered, failures, progressed = set(), 0, False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = get(f"{url}/analyses/{job_id}")
        answered.add(response.headers.get("X-Instance", "?"))
        if response.status_code != 200:
            failures += 1
        else:
            body = response.json()
            progressed |= body["status"] == "running" and body["progress"]["frames_done"] > 0
            if body["status"] in FINAL:
                return Followed(body, answered, failures, progressed)
        time.sleep(0.25)
    raise TimeoutError(f"job {job_id} did not end")


#: Samples of /health skipped after an instance failed to answer (it was
#: killed and is starting again: its landmark worker loads the model on the
#: cores the other instance shares here), in s.
RESTART_GRACE_S = 15.0


def probe_health(urls: dict[str, str], stop, samples) -> None:
    """GET /health on each instance (directly, not through the proxy) every
    100 ms, in its own process so that the check's own threads (moto) do not
    hold it up; puts ``{name: [latency ms]}`` on ``samples`` when ``stop`` is set.
    Answers within ``RESTART_GRACE_S`` after an instance did not answer (it
    was killed and is starting again) are not counted."""
    found: dict[str, list[float]] = {name: [] for name in urls}
    down_at = dict.fromkeys(urls, 0.0)
    session = requests.Session()
    while not stop.wait(0.1):
        for name, url in urls.items():
            started = time.perf_counter()
            try:
                ok = session.get(url + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                down_at[name] = time.monotonic()
                continue
            if ok and time.monotonic() - down_at[name] > RESTART_GRACE_S:
                found[name].append((time.perf_counter() - started) * 1000)
    samples.put(found)


def owned_objects_only(aws: AwsResources) -> tuple[bool, str]:
    """Every object in the bucket belongs to a job record."""
    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
    owned = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=aws.table):
        for item in page["Items"]:
            for name, prefix in (("upload_key", "uploads/"), ("result_key", "results/")):
                if name in item:
                    owned.add(prefix + item[name]["S"])
            if "annotated_id" in item:
                owned.add(f"annotated/{item['annotated_id']['S']}.mp4")
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])}
    stray = stored - owned
    return not stray, f"{len(stored)} objects, {len(stray)} owned by no job"


def results_of(aws: AwsResources, job_id: str) -> int:
    listing = aws.client("s3").list_objects_v2(Bucket=aws.bucket, Prefix=f"results/{job_id}.")
    return len(listing.get("Contents", []))


def busy_instance(cluster: Cluster, timeout: float = 60) -> str:
    """The instance whose landmark worker is using CPU (it runs the job)
    while the other's is idle: measured over 1 s windows until one is
    clearly busy and the other not (an instance just restarted uses CPU
    loading the model for a few seconds)."""

    def cpu(name: str) -> int:
        total = 0
        for pid in landmark_workers(cluster.instances[name]):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total

    deadline = time.monotonic() + timeout
    while True:
        before = {name: cpu(name) for name in cluster.instances}
        time.sleep(1.0)
        used = {name: cpu(name) - before[name] for name in cluster.instances}
        busy = [name for name, ticks in used.items() if ticks > 8]
        if len(busy) == 1 and all(ticks < 3 for name, ticks in used.items() if name != busy[0]):
            return busy[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"cannot tell which instance runs the job (CPU ticks in 1 s: {used})")


# ---------------------------------------------------------------- the checks


#: The options the web page sends with each video.
PAGE_OPTIONS = {"include": "frames", "annotate": "1"}


def page_flow(cluster: Cluster, response: requests.Response) -> tuple[bool, str]:
    """What the page does after submitting, through the proxy: follow the job
    (polls answered by both instances, progress seen), read the result from
    ``result_url`` (a presigned S3 URL: the cluster's results are above
    ``RESULT_INLINE_MAX_BYTES``) and fetch the annotated video 4 times."""
    if response.status_code != 202:
        return False, f"submit answered {response.status_code}"
    body, answered, failures, progressed = follow(cluster.url, response.json()["id"])
    if body["status"] != "succeeded":
        return False, f"{body['status']}: {body['error']}"
    result = requests.get(body["result_url"]["url"], timeout=30)
    ok_result = (
        body["result"] is None
        and body["result_url"]["url"].startswith(f"{cluster.aws.endpoint_url}/{cluster.aws.bucket}/results/")
        and result.status_code == 200
        and len(result.json()["frames"]) == 53
    )
    videos = [get(cluster.url + body["annotated_video"]["url"]) for _ in range(4)]
    ok_videos = all(v.status_code == 200 and v.content[4:8] == b"ftyp" for v in videos)
    ok = failures == 0 and answered == {"a", "b"} and progressed and ok_result and ok_videos
    return ok, (
        f"succeeded, polls answered by {sorted(answered)}, {failures} non-200, progress seen: {progressed}, "
        f"result from its presigned URL: {ok_result}, annotated video fetched 4 times: {ok_videos}"
    )


def check_flow(cluster: Cluster) -> tuple[bool, str]:
    return page_flow(cluster, submit_file(cluster.url, video(ARM_CIRCLES), PAGE_OPTIONS))


def check_direct_flow(cluster: Cluster) -> tuple[bool, str]:
    grant = requests.post(cluster.url + "/uploads", timeout=10)
    if grant.status_code != 200:
        return False, f"POST /uploads answered {grant.status_code}"
    sent = requests.post(
        grant.json()["url"],
        data={**grant.json()["fields"], "Content-Type": "video/mp4"},
        files={"file": ("clip.mp4", video(ARM_CIRCLES).read_bytes())},
        timeout=30,
    )
    if sent.status_code != 204:
        return False, f"the presigned POST to S3 answered {sent.status_code}"
    payload = {"video_key": grant.json()["video_key"], **PAGE_OPTIONS}
    ok, detail = page_flow(cluster, requests.post(cluster.url + "/analyses", json=payload, timeout=10))
    return ok, f"video sent to S3 (204), {detail}"


def check_page(cluster: Cluster) -> tuple[bool, str]:
    """The web page itself, in Chromium, through the proxy: it gets a
    presigned POST (``POST /uploads``), sends the video to moto's S3 (another
    origin: the bucket's CORS rules apply), follows the job, fetches the
    result from S3 and plays the annotated video."""
    bucket = f"{cluster.aws.endpoint_url}/{cluster.aws.bucket}"
    with chromium() as browser:
        page = browser.new_page()
        instances: set[str] = set()
        to_s3: list[tuple[str, int]] = []

        def answered(response) -> None:
            if response.url.startswith(cluster.url):
                instances.add(response.headers.get("x-instance", "?"))
            elif response.url.startswith(bucket):
                to_s3.append((response.request.method, response.status))

        page.on("response", answered)
        page.goto(cluster.url + "/")
        page.set_input_files("#file", str(video(ARM_CIRCLES)))
        page.wait_for_function(
            "!document.getElementById('results').hidden || !document.getElementById('error').hidden",
            timeout=240_000,
        )
        if page.is_visible("#error"):
            return False, f"the page showed: {page.inner_text('#error')}"
        player = "document.getElementById('annotated-video')"
        page.wait_for_function(f"{player}.readyState >= 2", timeout=30_000)
        rows = page.eval_on_selector_all("#summary tbody tr", "rows => rows.length")
    uploaded = ("POST", 204) in to_s3
    ok = uploaded and ("GET", 200) in to_s3 and instances == {"a", "b"} and rows > 0
    return ok, (
        f"video POSTed to S3: {uploaded}, S3 answers {sorted(set(to_s3))}, the API's answers came from "
        f"{sorted(instances)}, {rows} poses in the summary, annotated video loaded"
    )


def check_kill(cluster: Cluster) -> tuple[bool, str]:
    response = submit_file(cluster.url, video(ARM_RAISES))
    job_id = response.json()["id"]
    wait(lambda: get(f"{cluster.url}/analyses/{job_id}").json()["progress"]["frames_done"] > 0, 120)
    victim = busy_instance(cluster)
    kill_tree(cluster.instances[victim])
    body = follow(cluster.url, job_id).body
    cluster.start(victim)
    runs, results = attempts(cluster, job_id), results_of(cluster.aws, job_id)
    clean, objects = owned_objects_only(cluster.aws)
    ok = body["status"] == "succeeded" and results == 1 and runs == 2 and clean
    return ok, f"killed {victim} mid-job: {body['status']} on run {runs}, {results} result(s), {objects}"


def attempts(cluster: Cluster, job_id: str) -> int:
    """How many times a worker started the job (its record in DynamoDB)."""
    key = {"pk": {"S": f"job#{job_id}"}}
    item = cluster.aws.client("dynamodb").get_item(TableName=cluster.aws.table, Key=key)["Item"]
    return int(item["attempts"]["N"])


def check_worker_lost(cluster: Cluster) -> tuple[bool, str]:
    response = submit_file(cluster.url, video(ARM_RAISES))
    job_id = response.json()["id"]
    for attempt in range(1, ATTEMPTS + 1):
        wait(lambda n=attempt: attempts(cluster, job_id) >= n, 120)
        time.sleep(1.5)  # past the download: the landmark worker is busy
        victim = busy_instance(cluster)
        kill_tree(cluster.instances[victim])
        cluster.start(victim)
    body = follow(cluster.url, job_id).body
    queue = cluster.aws.client("sqs").get_queue_attributes(
        QueueUrl=cluster.aws.dlq_url, AttributeNames=["All"]
    )
    held = int(queue["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) + int(
        queue["Attributes"]["ApproximateNumberOfMessages"]
    )
    code = (body.get("error") or {}).get("code")
    ok = body["status"] == "failed" and code == "worker_lost" and held >= 1
    return ok, f"{ATTEMPTS} workers killed: {body['status']} ({code}), {held} message(s) in the DLQ"


def check_concurrent(cluster: Cluster) -> tuple[bool, str]:
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: submit_file(cluster.url, video(ARM_CIRCLES)), range(8)))
    accepted = [r.json()["id"] for r in responses if r.status_code == 202]
    with ThreadPoolExecutor(8) as pool:
        bodies = [found.body for found in pool.map(lambda job_id: follow(cluster.url, job_id), accepted)]
    succeeded = sum(body["status"] == "succeeded" for body in bodies)
    once = all(results_of(cluster.aws, job_id) == 1 for job_id in accepted)
    clean, objects = owned_objects_only(cluster.aws)
    ok = len(accepted) == 8 and succeeded == 8 and once and clean
    return ok, f"{len(accepted)}/8 accepted, {succeeded} succeeded, one result each: {once}, {objects}"


def check_rate_limit(cluster: Cluster) -> tuple[bool, str]:
    """From an address of its own (127.0.0.2, so that the earlier checks'
    submissions do not count), RATE_LIMIT + 5 POSTs while both instances
    are in the proxy: the first RATE_LIMIT reach them, the last 5 get 429."""
    seen: set[str] = set()
    wait(
        lambda: seen.add(get(cluster.url + "/health").headers.get("X-Instance", "?")) or {"a", "b"} <= seen,
        60,
    )
    session = requests.Session()
    adapter = SourceAdapter("127.0.0.2")
    session.mount("http://", adapter)
    statuses, instances = [], set()
    for _ in range(RATE_LIMIT + 5):
        response = session.post(cluster.url + "/analyses", data={"poses": "t_pose"}, timeout=10)
        statuses.append(response.status_code)
        if response.status_code != 429:
            instances.add(response.headers.get("X-Instance", "?"))
    ok = 429 not in statuses[:RATE_LIMIT] and statuses[RATE_LIMIT:] == [429] * 5 and instances == {"a", "b"}
    return ok, (
        f"{len(statuses)} POSTs from one address: the first {RATE_LIMIT} reached {sorted(instances)}, "
        f"then {statuses[RATE_LIMIT:].count(429)} of 5 got 429 "
        "(counted at the proxy, standing in for the WAF rule)"
    )


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from a given loopback address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def main() -> int:
    if shutil.which("haproxy") is None:
        print("cluster-check: haproxy is not installed (make deps installs it)")
        return 1
    results = []
    with tempfile.TemporaryDirectory(prefix="cluster-check-") as tmp, moto_server() as endpoint:
        aws = create_resources(endpoint, max_attempts=ATTEMPTS, visibility_s=30)
        cluster = Cluster(aws, Path(tmp))
        context = multiprocessing.get_context("spawn")
        stop, samples = context.Event(), context.Queue()
        urls = {name: server.url for name, server in cluster.instances.items()}
        probe = context.Process(target=probe_health, args=(urls, stop, samples), daemon=True)
        probe.start()
        try:
            for name, check in (
                ("page flow (upload, progress, result, annotated video)", check_flow),
                ("presigned upload flow (the same, the video sent straight to S3)", check_direct_flow),
                ("the web page in Chromium (presigned upload, result from S3, annotated video)", check_page),
                ("8 concurrent submissions", check_concurrent),
                ("kill -9 of the instance running a job", check_kill),
                ("a job whose worker always dies", check_worker_lost),
                ("rate limit across instances", check_rate_limit),
            ):
                try:
                    ok, detail = check(cluster)
                except Exception as exc:  # a check that breaks fails, and the others still run
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                results.append(ok)
                print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        finally:
            stop.set()
            latencies = samples.get(timeout=30)
            probe.join(5)
            cluster.close()
        for name, found in latencies.items():
            found.sort()
            p99 = found[int(0.99 * (len(found) - 1))] if found else float("inf")
            median = found[len(found) // 2] if found else float("inf")
            ok = p99 < 100
            results.append(ok)
            print(
                f"{'PASS' if ok else 'FAIL'} /health on instance {name}: "
                f"p99 {p99:.1f} ms, median {median:.1f} ms over {len(found)} probes "
                f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            )
    passed = all(results)
    print(f"cluster-check: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
