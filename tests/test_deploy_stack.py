"""The CloudFormation stacks, created in a mocked AWS (moto) in the order and
under the names ``infra/deploy.sh`` uses, with the task definitions it
renders from the jobs stack's outputs.

moto creates the resources but ignores some properties: the ECS services'
load balancers, launch type and deployment settings, target group and load
balancer attributes, security group egress, and all of Application Auto
Scaling. Those are checked on the templates, and the API service's load
balancer wiring and the worker's scaling metrics by resolving their imports
against the exports moto holds.

moto (5.2.5) has Secrets Manager but its CloudFormation skips
``AWS::SecretsManager::Secret``; ``GeneratedSecret`` below makes that one
resource through moto's own Secrets Manager API, so that the webhook
secret's ARN flows through the exports into the execution role's policy and
the task definitions as on AWS.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation import parsing
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup

from tests.deploy_files import (
    ACCOUNT,
    INFRA,
    REGION,
    container,
    render_task_definition,
    settings,
    task_environment,
    task_secrets,
    template,
)

# moto warns that it skips Application Auto Scaling resources (see above).
# It skips the WAF and the bucket policy too (infra/jobs.yaml; checked on the template).
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Tried to parse AWS..ApplicationAutoScaling:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Tried to parse AWS..WAFv2:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning"),
]


def deploy_order() -> list[tuple[str, str]]:
    """``(stack name, template)`` in the order ``infra/deploy.sh`` deploys them."""
    return re.findall(r"deploy_stack (\S+) (\S+\.yaml)", (INFRA / "deploy.sh").read_text())


def full_name(resource: FakeLoadBalancer | FakeTargetGroup) -> str:
    """``LoadBalancerFullName`` / ``TargetGroupFullName``: the ARN's resource part."""
    return resource.arn.split(":", 5)[5].removeprefix("loadbalancer/")


@dataclass
class GeneratedSecret:
    """An ``AWS::SecretsManager::Secret`` with ``GenerateSecretString``, as
    CloudFormation makes it: a random value from Secrets Manager's
    ``GetRandomPassword`` (whose options are ``GenerateSecretString``'s
    names), stored as a new secret; ``Ref`` is the secret's ARN."""

    physical_resource_id: str

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> GeneratedSecret:
        """Create the secret as CloudFormation does. A ``GenerateSecretString``
        option that ``GetRandomPassword`` lacks (``SecretStringTemplate``,
        ``GenerateStringKey``: JSON secrets, not used here) fails botocore's
        parameter validation rather than being ignored."""
        properties = cloudformation_json["Properties"]
        secrets = boto3.client("secretsmanager", region_name=region_name)
        value = secrets.get_random_password(**properties["GenerateSecretString"])["RandomPassword"]
        created = secrets.create_secret(
            Name=resource_name, Description=properties.get("Description", ""), SecretString=value
        )
        assert created["ARN"].split(":")[4] == account_id
        return cls(created["ARN"])

    def is_created(self) -> bool:
        """Created when made (CloudFormation waits on nothing else)."""
        return True


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """A mocked AWS, shared by this module's tests. moto lacks ``Fn::GetAtt``
    of the load balancer's and the target group's full names (real
    CloudFormation has both): supply them; and the webhook secret
    (``GeneratedSecret``)."""
    load_balancer_attribute = FakeLoadBalancer.get_cfn_attribute

    def load_balancer_full_name(self: FakeLoadBalancer, name: str) -> Any:
        return full_name(self) if name == "LoadBalancerFullName" else load_balancer_attribute(self, name)

    def target_group_full_name(self: FakeTargetGroup, name: str) -> Any:
        assert name == "TargetGroupFullName", name
        return full_name(self)

    resource_class = parsing.resource_class_from_type

    def with_secrets(resource_type: str) -> Any:
        if resource_type == "AWS::SecretsManager::Secret":
            return GeneratedSecret
        return resource_class(resource_type)

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setattr(parsing, "resource_class_from_type", with_secrets)
        patch.setattr(FakeLoadBalancer, "get_cfn_attribute", load_balancer_full_name)
        patch.setattr(FakeTargetGroup, "get_cfn_attribute", target_group_full_name, raising=False)
        yield


@dataclass
class Network:
    """The existing VPC and subnets the stacks are given."""

    vpc: str
    subnets: list[str]


@pytest.fixture(scope="module")
def network(aws: None) -> Network:
    """A VPC with a subnet in each of two Availability Zones."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    return Network(vpc, subnets)


def create_stack(name: str, template_file: str, **parameters: str) -> dict[str, str]:
    """Create a stack and return its outputs."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=(INFRA / template_file).read_text(),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


#: The service templates and the task definition each runs.
SERVICE_TEMPLATES = {"api-service.yaml": "api", "worker-service.yaml": "worker"}


@dataclass
class Deployment:
    """What the deployment created: stack outputs, the task definitions
    (``api``, ``worker``) and the exports."""

    outputs: dict[str, dict[str, str]]
    task_definitions: dict[str, dict[str, Any]]
    exports: dict[str, str]

    @property
    def task_definition(self) -> dict[str, Any]:
        """The API's task definition."""
        return self.task_definitions["api"]


@pytest.fixture(scope="module")
def deployment(network: Network) -> Deployment:
    """Every stack, created as ``infra/deploy.sh`` does (HTTP only): the
    task definitions are rendered with the jobs stack's outputs and
    registered before the service stacks."""
    subnets = ",".join(network.subnets)
    parameters = {
        "load-balancer.yaml": {"VpcId": network.vpc, "PublicSubnetIds": subnets},
        "api-service.yaml": {"SubnetIds": subnets},
        "worker-service.yaml": {"VpcId": network.vpc, "SubnetIds": subnets},
    }
    outputs: dict[str, dict[str, str]] = {}
    task_definitions: dict[str, dict[str, Any]] = {}
    ecs = boto3.client("ecs", region_name=REGION)
    for name, template_file in deploy_order():
        if template_file in SERVICE_TEMPLATES:
            service = SERVICE_TEMPLATES[template_file]
            jobs = outputs["jobs.yaml"]
            task_definitions[service] = render_task_definition(
                service, jobs["BucketName"], jobs["QueueUrl"], jobs["TableName"], jobs["WebhookSecretArn"]
            )
            registered = ecs.register_task_definition(**task_definitions[service])["taskDefinition"]
            parameters[template_file]["TaskDefinitionArn"] = registered["taskDefinitionArn"]
        outputs[template_file] = create_stack(name, template_file, **parameters.get(template_file, {}))
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    exports = {export["Name"]: export["Value"] for export in cloudformation.list_exports()["Exports"]}
    return Deployment(outputs, task_definitions, exports)


def described_target_group(arn: str) -> dict[str, Any]:
    """The target group ``arn`` as ELB describes it."""
    elbv2 = boto3.client("elbv2", region_name=REGION)
    (group,) = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
    return group


def described_load_balancer(target_group_arn: str) -> dict[str, Any]:
    """The load balancer the target group ``target_group_arn`` belongs to."""
    (arn,) = described_target_group(target_group_arn)["LoadBalancerArns"]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    (load_balancer,) = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    return load_balancer


def listeners(load_balancer: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The load balancer's listeners by port."""
    elbv2 = boto3.client("elbv2", region_name=REGION)
    found = elbv2.describe_listeners(LoadBalancerArn=load_balancer["LoadBalancerArn"])["Listeners"]
    return {listener["Port"]: listener for listener in found}


def ingress(group_id: str) -> list[dict[str, Any]]:
    """The security group's ingress rules."""
    ec2 = boto3.client("ec2", region_name=REGION)
    (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return group["IpPermissions"]


def resolve(value: Any, parameters: dict[str, str], exports: dict[str, str]) -> Any:
    """``value`` with ``Fn::ImportValue`` and ``Fn::Sub`` of parameters
    resolved as CloudFormation would (all this file needs)."""
    if isinstance(value, dict) and set(value) == {"Fn::ImportValue"}:
        return exports[resolve(value["Fn::ImportValue"], parameters, exports)]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{(\w+)\}", lambda match: parameters[match.group(1)], value["Fn::Sub"])
    if isinstance(value, dict):
        return {key: resolve(item, parameters, exports) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, parameters, exports) for item in value]
    return value


def parameter_defaults(template_file: str) -> dict[str, str]:
    """Default values of a template's parameters."""
    parameters = template(template_file)["Parameters"]
    return {name: str(spec["Default"]) for name, spec in parameters.items() if "Default" in spec}


def test_deploy_script_creates_every_template_once() -> None:
    templates = [template_file for _, template_file in deploy_order()]
    assert sorted(templates) == sorted(path.name for path in INFRA.glob("*.yaml"))
    assert templates[0] == "ecr.yaml"
    # The cluster's task roles attach the jobs stack's policies; the services
    # come last, when their task definitions can be registered.
    assert templates.index("jobs.yaml") < templates.index("cluster.yaml")
    assert set(templates[-2:]) == set(SERVICE_TEMPLATES)


def test_target_group_probes_health(deployment: Deployment) -> None:
    group = described_target_group(deployment.outputs["load-balancer.yaml"]["TargetGroupArn"])
    assert group["TargetType"] == "ip"
    assert (group["Protocol"], group["Port"]) == ("HTTP", int(settings()["ContainerPort"]))
    assert (group["HealthCheckProtocol"], group["HealthCheckPort"]) == ("HTTP", "traffic-port")
    assert group["HealthCheckPath"] == "/health"
    assert group["Matcher"] == {"HttpCode": "200"}
    (listener,) = listeners(described_load_balancer(group["TargetGroupArn"])).values()
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    assert listener["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]


def test_stack_name_parameters_match_the_deploy_script() -> None:
    names = {template_file: name for name, template_file in deploy_order()}
    assert parameter_defaults("cluster.yaml")["RepositoryStack"] == names["ecr.yaml"]
    assert parameter_defaults("cluster.yaml")["JobsStack"] == names["jobs.yaml"]
    assert parameter_defaults("api-service.yaml")["LoadBalancerStack"] == names["load-balancer.yaml"]
    assert parameter_defaults("api-service.yaml")["ClusterStack"] == names["cluster.yaml"]
    assert parameter_defaults("worker-service.yaml")["ClusterStack"] == names["cluster.yaml"]
    assert parameter_defaults("worker-service.yaml")["JobsStack"] == names["jobs.yaml"]


def test_service_is_wired_to_the_target_group(deployment: Deployment) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    (service,) = ecs.describe_services(cluster="dancepose", services=["dancepose-api"])["services"]
    assert service["taskDefinition"].endswith(":task-definition/dancepose-api:1")
    # moto drops the service's LoadBalancers and network configuration:
    # resolve them against the exports as CloudFormation would.
    properties = template("api-service.yaml")["Resources"]["Service"]["Properties"]
    defaults = parameter_defaults("api-service.yaml")
    (wiring,) = resolve(properties["LoadBalancers"], defaults, deployment.exports)
    task_container = container(deployment.task_definition)
    assert wiring == {
        "ContainerName": task_container["name"],
        "ContainerPort": str(task_container["portMappings"][0]["containerPort"]),
        "TargetGroupArn": deployment.outputs["load-balancer.yaml"]["TargetGroupArn"],
    }
    network = resolve(properties["NetworkConfiguration"], defaults, deployment.exports)
    groups = network["AwsvpcConfiguration"]["SecurityGroups"]
    assert groups == [deployment.outputs["load-balancer.yaml"]["ServiceSecurityGroupId"]]


def test_service_accepts_traffic_only_from_the_load_balancer(deployment: Deployment) -> None:
    outputs = deployment.outputs["load-balancer.yaml"]
    (rule,) = ingress(outputs["ServiceSecurityGroupId"])
    port = int(settings()["ContainerPort"])
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", port, port)
    assert not rule["IpRanges"] and not rule["Ipv6Ranges"]
    (source,) = rule["UserIdGroupPairs"]
    assert described_load_balancer(outputs["TargetGroupArn"])["SecurityGroups"] == [source["GroupId"]]
    public = ingress(source["GroupId"])
    assert [(r["FromPort"], r["IpRanges"]) for r in public] == [(80, [{"CidrIp": "0.0.0.0/0"}])]


def test_request_scaling_label_names_the_load_balancer_and_target_group(deployment: Deployment) -> None:
    outputs = deployment.outputs["load-balancer.yaml"]
    load_balancer = described_load_balancer(outputs["TargetGroupArn"])
    app = load_balancer["LoadBalancerArn"].split(":loadbalancer/")[1]
    target = outputs["TargetGroupArn"].split(":")[-1]
    assert outputs["RequestCountResourceLabel"] == f"{app}/{target}"


def policy_statements(document: Any) -> list[dict[str, Any]]:
    """A policy document's statements, ``Action`` and ``Resource`` as lists.
    moto keeps a template's inline policy as the Python repr of its dict."""
    document = ast.literal_eval(document) if isinstance(document, str) else document
    statements = []
    for statement in document["Statement"]:
        listed = {key: [value] if isinstance(value, str) else value for key, value in statement.items()}
        statements.append({**statement, "Action": listed["Action"], "Resource": listed["Resource"]})
    return statements


def role_statements(deployment: Deployment, resource: str) -> list[dict[str, Any]]:
    """The statements of the cluster stack's role ``resource``: its inline
    policies, and the managed policies of its ``ManagedPolicyArns`` (which
    moto does not attach: resolved against the exports as CloudFormation
    would, then read from IAM as the jobs stack created them)."""
    iam = boto3.client("iam", region_name=REGION)
    name = template("cluster.yaml")["Resources"][resource]["Properties"]["RoleName"]
    statements = []
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        statements += policy_statements(document)
    properties = template("cluster.yaml")["Resources"][resource]["Properties"]
    defaults = parameter_defaults("cluster.yaml")
    for arn in resolve(properties.get("ManagedPolicyArns", []), defaults, deployment.exports):
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        statements += policy_statements(document)
    return statements


def grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Action -> the resources it is allowed on."""
    allowed: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
        for action in statement["Action"]:
            allowed.setdefault(action, set()).update(statement["Resource"])
    return allowed


@dataclass
class JobResources:
    """ARNs of what the jobs stack created."""

    bucket: str
    queue: str
    dlq: str
    table: str

    def objects(self, *prefixes: str) -> set[str]:
        """ARNs of the objects under ``prefixes``."""
        return {f"{self.bucket}/{prefix}/*" for prefix in prefixes}


@pytest.fixture(scope="module")
def job_resources(deployment: Deployment) -> JobResources:
    outputs = deployment.outputs["jobs.yaml"]
    sqs = boto3.client("sqs", region_name=REGION)

    def queue_arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    return JobResources(
        f"arn:aws:s3:::{outputs['BucketName']}",
        queue_arn(outputs["QueueUrl"]),
        queue_arn(outputs["DeadLetterQueueUrl"]),
        dynamodb.describe_table(TableName=outputs["TableName"])["Table"]["TableArn"],
    )


def test_task_definitions_name_the_cluster_roles(deployment: Deployment) -> None:
    iam = boto3.client("iam", region_name=REGION)
    outputs = deployment.outputs["cluster.yaml"]
    for service, output in (("api", "ApiTaskRoleArn"), ("worker", "WorkerTaskRoleArn")):
        task = deployment.task_definitions[service]
        assert task["taskRoleArn"] == outputs[output]
        assert iam.get_role(RoleName=task["taskRoleArn"].split("/")[-1])["Role"]["Arn"] == outputs[output]
        assert task["executionRoleArn"] == outputs["ExecutionRoleArn"]
    api, worker = (deployment.task_definitions[service]["taskRoleArn"] for service in ("api", "worker"))
    assert api != worker


def test_execution_role_pulls_the_image_writes_the_logs_reads_the_webhook_secret(
    deployment: Deployment,
) -> None:
    """The ECS agent's role, action by action: log in to ECR, pull this
    repository, write this log group, and read the jobs stack's webhook
    secret, that one ARN (the task definitions' ``secrets`` are fetched with
    this role when a task starts). No managed policies; the task roles get
    nothing of Secrets Manager (their exact grants are checked below)."""
    repository = deployment.outputs["ecr.yaml"]["RepositoryArn"]
    (log_group,) = boto3.client("logs", region_name=REGION).describe_log_groups(
        logGroupNamePrefix="/ecs/dancepose"
    )["logGroups"]
    secret = deployment.outputs["jobs.yaml"]["WebhookSecretArn"]
    # DescribeLogGroups appends ":*" to the group's ARN; moto's Fn::GetAtt does not.
    log_group_arn = log_group["arn"].removesuffix(":*")
    assert grants(role_statements(deployment, "ExecutionRole")) == {
        "ecr:GetAuthorizationToken": {"*"},  # takes no resource
        "ecr:BatchCheckLayerAvailability": {repository},
        "ecr:BatchGetImage": {repository},
        "ecr:GetDownloadUrlForLayer": {repository},
        "logs:CreateLogStream": {log_group_arn},
        "logs:PutLogEvents": {log_group_arn},
        "secretsmanager:GetSecretValue": {secret},
    }
    iam = boto3.client("iam", region_name=REGION)
    assert not iam.list_attached_role_policies(RoleName="dancepose-execution")["AttachedPolicies"]
    assert not template("cluster.yaml")["Resources"]["ExecutionRole"]["Properties"].get("ManagedPolicyArns")
    for task in deployment.task_definitions.values():
        assert task_secrets(task) == {"WEBHOOK_SECRET": secret}


def test_webhook_secret_is_generated_letters_and_digits(deployment: Deployment) -> None:
    """The secret the jobs stack creates: generated (its value is in no
    template or parameter), 64 letters and digits, no punctuation or space
    to mangle in a shell or a receiver's config, under the AWS managed key."""
    properties = template("jobs.yaml")["Resources"]["WebhookSecret"]["Properties"]
    assert "SecretString" not in properties and "KmsKeyId" not in properties
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = deployment.outputs["jobs.yaml"]["WebhookSecretArn"]
    value = secrets.get_secret_value(SecretId=arn)["SecretString"]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", value)
    assert "KmsKeyId" not in secrets.describe_secret(SecretId=arn)


def test_api_role_submits_and_reads_jobs_only(deployment: Deployment, job_resources: JobResources) -> None:
    """Each action is one the API's code calls (jobs/service.py, jobs/aws/,
    api/), on the jobs stack's resources only: PutItem also covers the Puts
    of TransactWriteItems; ListBucket makes a missing key 404, not 403;
    PutObject on uploads/ is what a presigned POST is signed with."""
    r = job_resources
    allowed = grants(role_statements(deployment, "ApiTaskRole"))
    assert allowed == {
        "dynamodb:GetItem": {r.table},
        "dynamodb:PutItem": {r.table},
        "dynamodb:UpdateItem": {r.table},
        "dynamodb:DeleteItem": {r.table},
        "dynamodb:Query": {f"{r.table}/index/by_owner"},
        "sqs:SendMessage": {r.queue},
        "sqs:GetQueueAttributes": {r.queue},
        "sqs:GetQueueUrl": {r.dlq},
        "s3:ListBucket": {r.bucket},
        "s3:PutObject": r.objects("uploads"),
        "s3:AbortMultipartUpload": r.objects("uploads"),
        "s3:GetObject": r.objects("uploads", "results", "annotated"),
        "s3:DeleteObject": r.objects("uploads", "results", "annotated"),
    }
    taking_jobs = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
    assert not taking_jobs & set(allowed), "the API must not take jobs"
    assert not any(action.startswith("ecs:") for action in allowed)


def test_worker_role_runs_jobs_only(deployment: Deployment, job_resources: JobResources) -> None:
    """Each action is one the worker's code calls (jobs/worker.py,
    jobs/aws/): it receives from the queue and the DLQ, writes results and
    annotated videos, expires finished jobs with their files, and protects
    its own task from scale-in through the ECS agent (which calls
    ecs:UpdateTaskProtection with the task role's credentials)."""
    r = job_resources
    allowed = grants(role_statements(deployment, "WorkerTaskRole"))
    assert allowed == {
        "dynamodb:GetItem": {r.table},
        "dynamodb:UpdateItem": {r.table},
        "dynamodb:DeleteItem": {r.table},
        "dynamodb:Query": {f"{r.table}/index/by_expiry", f"{r.table}/index/webhooks"},
        "sqs:ReceiveMessage": {r.queue, r.dlq},
        "sqs:ChangeMessageVisibility": {r.queue},
        "sqs:DeleteMessage": {r.queue},
        "sqs:GetQueueAttributes": {r.queue},
        "sqs:GetQueueUrl": {r.dlq},
        "s3:ListBucket": {r.bucket},
        "s3:GetObject": r.objects("uploads"),
        "s3:PutObject": r.objects("results", "annotated"),
        "s3:AbortMultipartUpload": r.objects("results", "annotated"),
        "s3:DeleteObject": r.objects("uploads", "results", "annotated"),
        "ecs:UpdateTaskProtection": {f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/dancepose/*"},
    }
    submitting = {"sqs:SendMessage", "dynamodb:PutItem", "dynamodb:Scan"}
    assert not submitting & set(allowed), "the worker must not submit jobs or scan the table"


def test_log_group_has_retention(deployment: Deployment) -> None:
    logs = boto3.client("logs", region_name=REGION)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/ecs/dancepose")["logGroups"]
    assert group["retentionInDays"] == 30


def test_https_listener_when_a_certificate_is_given(network: Network) -> None:
    acm = boto3.client("acm", region_name=REGION)
    certificate = acm.request_certificate(DomainName="dancepose.example.com")["CertificateArn"]
    name = next(name for name, file in deploy_order() if file == "load-balancer.yaml")
    outputs = create_stack(
        f"{name}-https",
        "load-balancer.yaml",
        VpcId=network.vpc,
        PublicSubnetIds=",".join(network.subnets),
        CertificateArn=certificate,
    )
    assert outputs["Url"].startswith("https://")
    load_balancer = described_load_balancer(outputs["TargetGroupArn"])
    by_port = listeners(load_balancer)
    assert set(by_port) == {80, 443}
    (redirect,) = by_port[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    config = redirect["RedirectConfig"]
    assert (config["Protocol"], config["Port"], config["StatusCode"]) == ("HTTPS", "443", "HTTP_301")
    assert by_port[443]["Protocol"] == "HTTPS"
    assert by_port[443]["Certificates"] == [{"CertificateArn": certificate}]
    assert by_port[443]["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": outputs["TargetGroupArn"]}
    ]
    (public,) = load_balancer["SecurityGroups"]
    assert sorted(rule["FromPort"] for rule in ingress(public)) == [80, 443]


@pytest.mark.parametrize("template_file", SERVICE_TEMPLATES)
def test_deployments_roll_back_and_keep_full_capacity(template_file: str) -> None:
    service = template(template_file)["Resources"]["Service"]["Properties"]
    assert service["LaunchType"] == "FARGATE"
    assert service["DeploymentConfiguration"] == {
        "MinimumHealthyPercent": 100,
        "MaximumPercent": 200,
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
    }
    assert "DesiredCount" not in service, "autoscaling owns the desired count"


def test_autoscaling_tracks_cpu_and_requests_per_task() -> None:
    resources = template("api-service.yaml")["Resources"]
    target = resources["ScalableTarget"]["Properties"]
    assert (target["ServiceNamespace"], target["ScalableDimension"]) == ("ecs", "ecs:service:DesiredCount")
    assert target["ResourceId"]["Fn::Sub"][0] == "service/${Cluster}/${Service.Name}"
    metrics = {}
    for policy in (r["Properties"] for r in resources.values() if r["Type"].endswith("ScalingPolicy")):
        assert policy["PolicyType"] == "TargetTrackingScaling"
        assert policy["ScalingTargetId"] == {"Ref": "ScalableTarget"}
        specification = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
        metrics[specification["PredefinedMetricType"]] = specification.get("ResourceLabel")
    assert metrics == {
        "ECSServiceAverageCPUUtilization": None,
        "ALBRequestCountPerTarget": {
            "Fn::ImportValue": {"Fn::Sub": "${LoadBalancerStack}-RequestCountResourceLabel"}
        },
    }


def test_load_balancer_and_target_group_attributes_use_the_settings() -> None:
    resources = template("load-balancer.yaml")["Resources"]

    def attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {item["Key"]: item["Value"] for item in items}

    load_balancer = attributes(resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"])
    assert load_balancer["idle_timeout.timeout_seconds"] == {
        "Fn::FindInMap": ["Service", "Settings", "IdleTimeout"]
    }
    group = attributes(resources["TargetGroup"]["Properties"]["TargetGroupAttributes"])
    assert group["deregistration_delay.timeout_seconds"] == {
        "Fn::FindInMap": ["Service", "Settings", "DeregistrationDelay"]
    }


def test_security_group_egress_is_narrow() -> None:
    resources = template("load-balancer.yaml")["Resources"]
    (to_service,) = resources["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert to_service["DestinationSecurityGroupId"] == {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}
    (out,) = resources["ServiceSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert (out["IpProtocol"], out["FromPort"], out["ToPort"]) == ("tcp", 443, 443)


#: What IAM authorizes each AWS call of the job backends (jobs/aws/*.py) as.
CALL_ACTIONS = {
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
    "transact_write_items": {"dynamodb:PutItem"},  # authorized per item: the backend's are Puts
    "send_message": {"sqs:SendMessage"},
    "receive_message": {"sqs:ReceiveMessage"},
    "change_message_visibility": {"sqs:ChangeMessageVisibility"},
    "delete_message": {"sqs:DeleteMessage"},
    "get_queue_attributes": {"sqs:GetQueueAttributes"},
    "get_queue_url": {"sqs:GetQueueUrl"},
    "head_bucket": {"s3:ListBucket"},
    "list_objects_v2": {"s3:ListBucket"},
    "head_object": {"s3:GetObject"},
    "get_object": {"s3:GetObject"},
    "download_file": {"s3:GetObject"},
    "generate_presigned_url": {"s3:GetObject"},  # get_object URLs
    "put_object": {"s3:PutObject"},
    "upload_file": {"s3:PutObject", "s3:AbortMultipartUpload"},  # multipart above 8 MB
    "generate_presigned_post": {"s3:PutObject"},
    "delete_object": {"s3:DeleteObject"},
}
#: Calls neither service makes: the job count per status (a table scan, for
#: tests and operators) and the listing of an object store's keys (tests).
NOT_IN_A_SERVICE = {"scan", "list_objects_v2"}


def backend_calls() -> set[str]:
    """The boto3 operations ``jobs/aws/`` calls on its DynamoDB, SQS and S3
    clients (methods and paginators)."""
    calls: set[str] = set()
    for path in (INFRA.parent / "jobs" / "aws").glob("*.py"):
        source = path.read_text()
        calls |= set(re.findall(r"\b(?:db|sqs|s3)\.([a-z_0-9]+)\(", source)) - {"get_paginator"}
        calls |= set(re.findall(r"get_paginator\(\"([a-z_0-9]+)\"\)", source))
    return calls


def test_every_call_of_the_backends_is_granted(deployment: Deployment) -> None:
    """A new AWS call in jobs/aws/ fails here until a role is granted it."""
    calls = backend_calls()
    assert {"get_item", "send_message", "receive_message", "upload_file"} <= calls  # the scan works
    unknown = calls - set(CALL_ACTIONS)
    assert not unknown, f"add these calls to CALL_ACTIONS and to a role's policy: {unknown}"
    granted = set(grants(role_statements(deployment, "ApiTaskRole")))
    granted |= set(grants(role_statements(deployment, "WorkerTaskRole")))
    missing = {call: CALL_ACTIONS[call] - granted for call in calls - NOT_IN_A_SERVICE}
    assert not {call: actions for call, actions in missing.items() if actions}


# ---------------------------------------------------------------- the job worker service


def test_worker_service_runs_the_worker_task_without_a_load_balancer(deployment: Deployment) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    (service,) = ecs.describe_services(cluster="dancepose", services=["dancepose-worker"])["services"]
    assert service["taskDefinition"].endswith(":task-definition/dancepose-worker:1")
    properties = template("worker-service.yaml")["Resources"]["Service"]["Properties"]
    assert "LoadBalancers" not in properties and "HealthCheckGracePeriodSeconds" not in properties
    assert properties["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}
    ]
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    name = next(name for name, file in deploy_order() if file == "worker-service.yaml")
    group = cloudformation.describe_stack_resource(StackName=name, LogicalResourceId="SecurityGroup")
    assert ingress(group["StackResourceDetail"]["PhysicalResourceId"]) == [], "nothing reaches a worker"
    security_group = template("worker-service.yaml")["Resources"]["SecurityGroup"]["Properties"]
    (out,) = security_group["SecurityGroupEgress"]
    assert (out["IpProtocol"], out["FromPort"], out["ToPort"]) == ("tcp", 443, 443)


def evaluate(expression: str, values: dict[str, float]) -> float:
    """A metric math expression of + - * / over metric ids, evaluated."""
    operators = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b}
    operators |= {ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        raise AssertionError(f"not plain arithmetic: {ast.dump(node)}")

    return value(ast.parse(expression, mode="eval").body)


def test_worker_scales_on_queue_backlog_per_running_task(deployment: Deployment) -> None:
    """One target tracking policy whose metric is (jobs waiting + jobs in
    flight) / running worker tasks, on this deployment's queue and service
    (moto skips Application Auto Scaling: the template, resolved against
    the exports)."""
    resources = template("worker-service.yaml")["Resources"]
    (policy,) = (r["Properties"] for r in resources.values() if r["Type"].endswith("ScalingPolicy"))
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["ScalingTargetId"] == {"Ref": "ScalableTarget"}
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == {"Ref": "JobsPerTaskTarget"}
    assert configuration["ScaleInCooldown"] >= configuration["ScaleOutCooldown"]
    queries = resolve(
        configuration["CustomizedMetricSpecification"]["Metrics"],
        parameter_defaults("worker-service.yaml"),
        deployment.exports,
    )
    (returned,) = [query for query in queries if query["ReturnData"]]
    metrics = {}
    for query in queries:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = {item["Name"]: item["Value"] for item in metric["Dimensions"]}
            metrics[(metric["Namespace"], metric["MetricName"])] = (query["Id"], dimensions)
    queue = deployment.outputs["jobs.yaml"]["QueueUrl"].rsplit("/", 1)[1]
    service = {"ClusterName": "dancepose", "ServiceName": {"Fn::GetAtt": ["Service", "Name"]}}
    assert {name: dimensions for name, (_, dimensions) in metrics.items()} == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): {"QueueName": queue},
        ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible"): {"QueueName": queue},
        ("ECS/ContainerInsights", "RunningTaskCount"): service,
    }
    ids = {name: metric_id for name, (metric_id, _) in metrics.items()}
    visible, in_flight = (
        ids["AWS/SQS", "ApproximateNumberOfMessagesVisible"],
        ids["AWS/SQS", "ApproximateNumberOfMessagesNotVisible"],
    )
    tasks = ids["ECS/ContainerInsights", "RunningTaskCount"]
    assert evaluate(returned["Expression"], {visible: 10, in_flight: 2, tasks: 4}) == 3.0
    assert evaluate(returned["Expression"], {visible: 10, in_flight: 2, tasks: 8}) == 1.5
    assert evaluate(returned["Expression"], {visible: 0, in_flight: 6, tasks: 3}) == 2.0
    # RunningTaskCount is a Container Insights metric (moto keeps no cluster settings).
    cluster = template("cluster.yaml")["Resources"]["Cluster"]["Properties"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_worker_scaling_target_and_bounds() -> None:
    """The target leaves room above the jobs a task runs at once (else a
    fleet that is merely busy would keep scaling out), and the service
    never goes to 0 tasks (the backlog per task has no value there)."""
    parameters = template("worker-service.yaml")["Parameters"]
    worker = render_task_definition("worker")
    env = task_environment(worker)
    concurrency = int(env.get("JOB_CONCURRENCY") or env["ANALYSIS_WORKERS"])
    assert parameters["JobsPerTaskTarget"]["Default"] > concurrency
    assert parameters["MinTasks"]["MinValue"] >= 1 and parameters["MinTasks"]["Default"] >= 1
    target = template("worker-service.yaml")["Resources"]["ScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "MinTasks"}, {"Ref": "MaxTasks"})
    assert target["ResourceId"]["Fn::Sub"][0] == "service/${Cluster}/${Service.Name}"


# ---------------------------------------------------------------- the jobs' shared state (infra/jobs.yaml)


def test_jobs_stack_creates_the_state_the_aws_backends_use(deployment: Deployment) -> None:
    """The bucket, queue and table ``jobs.aws`` talks to, as created."""
    outputs = deployment.outputs["jobs.yaml"]
    # moto's CloudFormation makes the bucket but skips its configuration
    # (encryption, public access block, lifecycle, CORS): checked on the template.
    assert boto3.client("s3", region_name=REGION).head_bucket(Bucket=outputs["BucketName"])
    bucket = template("jobs.yaml")["Resources"]["Bucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    blocked = bucket["PublicAccessBlockConfiguration"]
    assert all(blocked.values()) and len(blocked) == 4
    lifecycle = bucket["LifecycleConfiguration"]["Rules"]
    assert {rule["Prefix"] for rule in lifecycle if "ExpirationInDays" in rule} == {
        "uploads/",
        "results/",
        "annotated/",
    }  # every prefix the backends write (jobs/settings.py, jobs/aws/annotated.py)
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert "POST" in cors["AllowedMethods"] and cors["AllowedOrigins"] == [{"Ref": "PageOrigin"}]

    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == int(parameter_defaults("jobs.yaml")["JobMaxAttempts"])
    assert attributes["VisibilityTimeout"] == parameter_defaults("jobs.yaml")["JobVisibilityTimeoutS"]
    dlq = sqs.get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"], AttributeNames=["QueueArn"])
    assert redrive["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "by_owner",
        "by_expiry",
        "webhooks",
    }
    # (moto's CloudFormation skips TimeToLiveSpecification: checked on the template.)
    ttl = template("jobs.yaml")["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "ttl", "Enabled": True}


def test_jobs_stack_table_matches_the_one_the_backend_tests_use() -> None:
    """tests/moto_aws.py makes the table the AWS backends are tested on:
    the template declares the same keys and indexes."""
    declared = template("jobs.yaml")["Resources"]["Table"]["Properties"]
    source = (INFRA.parent / "tests" / "moto_aws.py").read_text()
    for attribute in declared["AttributeDefinitions"]:
        assert f'("{attribute["AttributeName"]}", ' in source
    for index in declared["GlobalSecondaryIndexes"]:
        assert f'"IndexName": "{index["IndexName"]}"' in source


def test_jobs_rate_limit_is_a_waf_rule_on_the_load_balancer() -> None:
    """Rate limits that hold across tasks: a WAF rate-based rule per client
    address on the analysis requests, answering the API's 429 envelope
    (moto does not model WAF in CloudFormation: checked on the template)."""
    resources = template("jobs.yaml")["Resources"]
    (rule,) = resources["WebAcl"]["Properties"]["Rules"]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["EvaluationWindowSec"] == 300
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert {"Name": "Retry-After", "Value": "60"} in response["ResponseHeaders"]
    body = resources["WebAcl"]["Properties"]["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert json.loads(body["Content"])["error"]["code"] == "too_many_requests"
    association = resources["WebAclAssociation"]["Properties"]
    assert association["ResourceArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "${LoadBalancerStack}-LoadBalancerArn"}
    }
    assert (
        parameter_defaults("jobs.yaml")["LoadBalancerStack"]
        == dict((template_file, name) for name, template_file in deploy_order())["load-balancer.yaml"]
    )
