"""The post-deployment health gate the pipeline runs against an environment.

Run by a CodeBuild step in the shared-services account after a wave deploys:

    python -m runtime.health_check --role-arn arn:aws:iam::<id>:role/<name> --region <r>

It assumes the environment's read-only health-check role and fails (exit 1) when any EKS
cluster is not ACTIVE, any managed node group is not ACTIVE or reports health issues, or any
CloudWatch alarm of the account is in ALARM. The pipeline stops there: nothing later in the
promotion deploys. Only boto3 is needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import boto3

from runtime.sessions import assumed_session

SESSION_NAME = "pipeline-health-check"


@dataclass
class HealthReport:
    """What the gate looked at and what it found wrong."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"checked: {item}" for item in self.checked] or ["checked: nothing deployed yet"]
        lines += [f"UNHEALTHY: {problem}" for problem in self.problems]
        lines.append("healthy" if self.healthy else f"{len(self.problems)} problem(s)")
        return "\n".join(lines)


def check_environment(session: boto3.Session) -> HealthReport:
    """Check every EKS cluster, node group and CloudWatch alarm the session can see."""
    report = HealthReport()
    _check_clusters(session.client("eks"), report)
    _check_alarms(session.client("cloudwatch"), report)
    return report


def _check_clusters(eks, report: HealthReport) -> None:
    for page in eks.get_paginator("list_clusters").paginate():
        for name in page["clusters"]:
            status = eks.describe_cluster(name=name)["cluster"]["status"]
            report.checked.append(f"EKS cluster {name} ({status})")
            if status != "ACTIVE":
                report.problems.append(f"EKS cluster {name} is {status}, not ACTIVE")
            for nodegroups in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
                for nodegroup in nodegroups["nodegroups"]:
                    _check_nodegroup(eks, name, nodegroup, report)


def _check_nodegroup(eks, cluster: str, name: str, report: HealthReport) -> None:
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
    status = described["status"]
    report.checked.append(f"node group {cluster}/{name} ({status})")
    if status != "ACTIVE":
        report.problems.append(f"node group {cluster}/{name} is {status}, not ACTIVE")
    for issue in described.get("health", {}).get("issues", []):
        report.problems.append(
            f"node group {cluster}/{name}: {issue.get('code')}: {issue.get('message')}"
        )


def _check_alarms(cloudwatch, report: HealthReport) -> None:
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    total = 0
    for page in pages:
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            total += 1
            if alarm["StateValue"] == "ALARM":
                report.problems.append(
                    f"alarm {alarm['AlarmName']} is in ALARM: {alarm.get('StateReason', '')}"
                )
    report.checked.append(f"{total} CloudWatch alarm(s)")


def assume(role_arn: str, region: str) -> boto3.Session:
    """A session with the read-only health-check role of the environment."""
    return assumed_session(role_arn, region, SESSION_NAME)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--role-arn", required=True, help="the environment's health-check role")
    parser.add_argument("--region", required=True, help="the environment's region")
    args = parser.parse_args(argv)
    report = check_environment(assume(args.role_arn, args.region))
    print(report.render())
    return 0 if report.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
