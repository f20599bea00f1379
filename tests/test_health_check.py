"""The health gate against moto: healthy, unhealthy cluster or node group, alarm firing."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from runtime.health_check import check_environment, main, soak
from tests.helpers import fake_aws_credentials

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    fake_aws_credentials(monkeypatch, REGION)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def make_cluster(session, name="platform", *, nodegroup="system") -> None:
    eks = session.client("eks")
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(
        name=name, roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]}
    )
    eks.create_nodegroup(
        clusterName=name, nodegroupName=nodegroup, nodeRole=role, subnets=["subnet-1"]
    )


def make_alarm(session, name: str, state: str) -> None:
    cloudwatch = session.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="5XXError",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test says so")


def test_healthy_environment_passes(aws):
    make_cluster(aws)
    make_alarm(aws, "api-errors", "OK")
    report = check_environment(aws)
    assert report.healthy, report.render()
    assert report.checked == [
        "EKS cluster platform (ACTIVE)",
        "node group platform/system (ACTIVE)",
        "1 CloudWatch alarm(s) in eu-west-1",
    ]


def test_empty_environment_passes(aws):
    assert check_environment(aws).healthy


def patch_eks(monkeypatch, session, method: str, change) -> None:
    """Make EKS answers report states moto never produces (moto's clusters are always ACTIVE)."""
    eks = session.client("eks")
    real = getattr(eks, method)

    def changed(**kwargs):
        answer = real(**kwargs)
        change(answer)
        return answer

    monkeypatch.setattr(eks, method, changed)
    other = session.client
    monkeypatch.setattr(session, "client", lambda name, **kw: eks if name == "eks" else other(name))


def test_cluster_not_active_fails(aws, monkeypatch):
    make_cluster(aws)
    patch_eks(
        monkeypatch,
        aws,
        "describe_cluster",
        lambda answer: answer["cluster"].update(status="UPDATING"),
    )
    assert check_environment(aws).problems == ["EKS cluster platform is UPDATING, not ACTIVE"]


def test_nodegroup_health_issue_fails(aws, monkeypatch):
    make_cluster(aws)
    issue = {"code": "AsgInstanceLaunchFailures", "message": "no capacity"}
    patch_eks(
        monkeypatch,
        aws,
        "describe_nodegroup",
        lambda answer: answer["nodegroup"].update(status="DEGRADED", health={"issues": [issue]}),
    )
    assert check_environment(aws).problems == [
        "node group platform/system is DEGRADED, not ACTIVE",
        "node group platform/system: AsgInstanceLaunchFailures: no capacity",
    ]


def test_alarm_firing_fails(aws):
    make_alarm(aws, "api-errors", "ALARM")
    make_alarm(aws, "queue-depth", "OK")
    assert check_environment(aws).problems == [
        "alarm api-errors (eu-west-1) is in ALARM: test says so"
    ]


def test_an_alarm_in_another_region_of_the_account_fails(aws):
    """The account's us-east-1 alarms (the edge's certificate and WAF side) count too."""
    make_alarm(boto3.Session(region_name="us-east-1"), "edge-errors", "ALARM")
    assert check_environment(aws).healthy  # not looked at
    assert check_environment(aws, ["us-east-1"]).problems == [
        "alarm edge-errors (us-east-1) is in ALARM: test says so"
    ]


def test_the_soak_fails_at_the_first_alarm_naming_it(aws):
    """A release that breaks a minute after it is live: the gate watches, minute by minute,
    and stops the promotion at the first alarm."""
    make_alarm(aws, "api-errors", "OK")
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 2:  # the second minute of the soak
            aws.client("cloudwatch").set_alarm_state(
                AlarmName="api-errors", StateValue="ALARM", StateReason="5xx above 5%"
            )

    report = soak(aws, 10, sleep=sleep)
    assert waited == [60, 60]
    assert report.problems == [
        "after 2 of 10 soak minute(s):",
        "alarm api-errors (eu-west-1) is in ALARM: 5xx above 5%",
    ]


def test_a_quiet_soak_passes_after_its_minutes(aws):
    make_alarm(aws, "api-errors", "OK")
    waited: list[float] = []
    report = soak(aws, 3, sleep=waited.append)
    assert report.healthy and waited == [60, 60, 60]
    assert soak(aws, 0, sleep=waited.append).healthy and len(waited) == 3


def test_main_assumes_the_role_and_exits_nonzero_when_unhealthy(aws, capsys):
    iam = aws.client("iam")
    role = iam.create_role(RoleName="exco-staging-health-check", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    make_alarm(aws, "api-errors", "ALARM")
    assert main(["--role-arn", role, "--region", REGION]) == 1
    out = capsys.readouterr().out
    assert "UNHEALTHY: alarm api-errors (eu-west-1) is in ALARM" in out
    assert out.rstrip().endswith("1 problem(s)")


def stubbed_cloudformation(*names_and_errors: tuple[str, str | None]):
    """A CloudFormation client that expects one UpdateTerminationProtection per stack
    (moto's CloudFormation needs extras this project does not install)."""
    from botocore.stub import Stubber

    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    for name, error in names_and_errors:
        params = {"EnableTerminationProtection": True, "StackName": name}
        if error:
            stubber.add_client_error(
                "update_termination_protection", "ValidationError", error, 400, params
            )
        else:
            arn = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/1"
            stubber.add_response("update_termination_protection", {"StackId": arn}, params)
    stubber.activate()
    return client, stubber


def test_termination_protection_is_turned_on_for_every_named_stack(aws) -> None:
    from runtime.protect_stacks import protect

    client, stubber = stubbed_cloudformation(("prod-Data", None), ("prod-Network", None))
    assert protect(client, ["prod-Data", "prod-Network"]) == []
    stubber.assert_no_pending_responses()


def test_a_missing_stack_fails_the_protection_step(aws) -> None:
    from runtime.protect_stacks import protect

    client, _ = stubbed_cloudformation(("prod-Missing", "Stack [prod-Missing] does not exist"))
    assert protect(client, ["prod-Missing"]) == [
        "prod-Missing: Stack [prod-Missing] does not exist"
    ]
