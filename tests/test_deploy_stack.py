"""The CloudFormation stacks, created in a mocked AWS (moto) in the order and
under the names ``infra/deploy.sh`` uses, with the task definition it renders.

moto creates the resources but ignores some properties: the ECS service's
load balancers, launch type and deployment settings, target group and load
balancer attributes, security group egress, and all of Application Auto
Scaling. Those are checked on the templates at the end of this file, and the
service's load balancer wiring by resolving its imports against the exports
moto holds.
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
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup

from tests.deploy_files import INFRA, REGION, container, render_task_definition, settings, template

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


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """A mocked AWS, shared by this module's tests. moto lacks ``Fn::GetAtt``
    of the load balancer's and the target group's full names (real
    CloudFormation has both): supply them."""
    load_balancer_attribute = FakeLoadBalancer.get_cfn_attribute

    def load_balancer_full_name(self: FakeLoadBalancer, name: str) -> Any:
        return full_name(self) if name == "LoadBalancerFullName" else load_balancer_attribute(self, name)

    def target_group_full_name(self: FakeTargetGroup, name: str) -> Any:
        assert name == "TargetGroupFullName", name
        return full_name(self)

    with pytest.MonkeyPatch.context() as patch, mock_aws():
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


@dataclass
class Deployment:
    """What the deployment created: stack outputs and the task definition."""

    outputs: dict[str, dict[str, str]]
    task_definition: dict[str, Any]
    exports: dict[str, str]


@pytest.fixture(scope="module")
def deployment(network: Network) -> Deployment:
    """Every stack, created as ``infra/deploy.sh`` does (HTTP only)."""
    parameters = {
        "load-balancer.yaml": {"VpcId": network.vpc, "PublicSubnetIds": ",".join(network.subnets)},
        "api-service.yaml": {"SubnetIds": ",".join(network.subnets)},
    }
    outputs: dict[str, dict[str, str]] = {}
    task_definition = render_task_definition()
    for name, template_file in deploy_order():
        if template_file == "api-service.yaml":
            ecs = boto3.client("ecs", region_name=REGION)
            registered = ecs.register_task_definition(**task_definition)["taskDefinition"]
            parameters[template_file]["TaskDefinitionArn"] = registered["taskDefinitionArn"]
        outputs[template_file] = create_stack(name, template_file, **parameters.get(template_file, {}))
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    exports = {export["Name"]: export["Value"] for export in cloudformation.list_exports()["Exports"]}
    return Deployment(outputs, task_definition, exports)


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
    assert templates[0] == "ecr.yaml" and templates[-1] == "api-service.yaml"


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
    assert parameter_defaults("api-service.yaml")["LoadBalancerStack"] == names["load-balancer.yaml"]
    assert parameter_defaults("api-service.yaml")["ClusterStack"] == names["cluster.yaml"]


def test_service_is_wired_to_the_target_group(deployment: Deployment) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    (service,) = ecs.describe_services(cluster="dancepose", services=["dancepose"])["services"]
    assert service["taskDefinition"].endswith(":task-definition/dancepose:1")
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


def test_roles_are_least_privilege(deployment: Deployment) -> None:
    iam = boto3.client("iam", region_name=REGION)
    task = deployment.task_definition
    assert iam.get_role(RoleName="dancepose-execution")["Role"]["Arn"] == task["executionRoleArn"]
    assert iam.get_role(RoleName="dancepose-task")["Role"]["Arn"] == task["taskRoleArn"]
    (policy_name,) = iam.list_role_policies(RoleName="dancepose-execution")["PolicyNames"]
    document = iam.get_role_policy(RoleName="dancepose-execution", PolicyName=policy_name)["PolicyDocument"]
    # moto keeps a template's inline policy as the Python repr of its dict.
    document = ast.literal_eval(document) if isinstance(document, str) else document
    resources = {statement["Sid"]: statement["Resource"] for statement in document["Statement"]}
    assert resources["EcrLogin"] == "*"  # GetAuthorizationToken takes no resource
    assert resources["PullThisRepository"] == deployment.outputs["ecr.yaml"]["RepositoryArn"]
    assert ":log-group:/ecs/dancepose" in resources["WriteThisLogGroup"]
    assert not iam.list_attached_role_policies(RoleName="dancepose-execution")["AttachedPolicies"]
    assert not iam.list_role_policies(RoleName="dancepose-task")["PolicyNames"]
    assert not iam.list_attached_role_policies(RoleName="dancepose-task")["AttachedPolicies"]


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


def test_deployments_roll_back_and_keep_full_capacity() -> None:
    service = template("api-service.yaml")["Resources"]["Service"]["Properties"]
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
