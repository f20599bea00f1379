"""The post-deployment health gate the pipeline runs against an environment.

Run by a CodeBuild step in the shared-services account after a wave deploys:

    python -m runtime.health_check --role-arn arn:aws:iam::<id>:role/<name> --region <r> \
        [--alarm-regions <r> <r2> ...] [--soak-minutes N]

It assumes the environment's read-only health-check role and fails (exit 1) when any EKS
cluster is not ACTIVE, any managed node group is not ACTIVE or reports health issues, or any
CloudWatch alarm of the account (in `--region` and each `--alarm-regions`) is in ALARM. With
`--soak-minutes`, it first watches the alarms for that long after the deploy, once a minute,
and fails as soon as one is in ALARM (a bad release shows in metrics minutes after it is
live), naming the alarms. The pipeline stops there: nothing later in the promotion deploys.
Only boto3 is needed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
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


def check_environment(session: boto3.Session, alarm_regions: Sequence[str] = ()) -> HealthReport:
    """Check every EKS cluster and node group the session can see, and every CloudWatch alarm
    in its region and `alarm_regions`."""
    report = HealthReport()
    _check_clusters(session.client("eks"), report)
    for region in _regions(session, alarm_regions):
        _check_alarms(session.client("cloudwatch", region_name=region), report, region)
    return report


def soak(
    session: boto3.Session,
    minutes: int,
    alarm_regions: Sequence[str] = (),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> HealthReport:
    """Watch the account's alarms once a minute for `minutes`; the report of the first look
    that finds one in ALARM, or an empty (healthy) report once the time is up."""
    for minute in range(minutes):
        sleep(60)
        report = HealthReport()
        for region in _regions(session, alarm_regions):
            _check_alarms(session.client("cloudwatch", region_name=region), report, region)
        if not report.healthy:
            report.problems.insert(0, f"after {minute + 1} of {minutes} soak minute(s):")
            return report
    return HealthReport(checked=[f"{minutes} soak minute(s) without an alarm"] if minutes else [])


def _regions(session: boto3.Session, alarm_regions: Sequence[str]) -> list[str]:
    home: str = session.region_name or ""
    return list(dict.fromkeys([home, *alarm_regions]))


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


def _check_alarms(cloudwatch, report: HealthReport, region: str) -> None:
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    total = 0
    for page in pages:
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            total += 1
            if alarm["StateValue"] == "ALARM":
                report.problems.append(
                    f"alarm {alarm['AlarmName']} ({region}) is in ALARM: "
                    f"{alarm.get('StateReason', '')}"
                )
    report.checked.append(f"{total} CloudWatch alarm(s) in {region}")


def assume(role_arn: str, region: str) -> boto3.Session:
    """A session with the read-only health-check role of the environment."""
    return assumed_session(role_arn, region, SESSION_NAME)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--role-arn", required=True, help="the environment's health-check role")
    parser.add_argument("--region", required=True, help="the environment's region")
    parser.add_argument(
        "--alarm-regions", nargs="*", default=[], help="other regions whose alarms count"
    )
    parser.add_argument(
        "--soak-minutes", type=int, default=0, help="watch the alarms this long first"
    )
    args = parser.parse_args(argv)
    session = assume(args.role_arn, args.region)
    report = soak(session, args.soak_minutes, args.alarm_regions)
    if report.healthy:
        soaked = report.checked
        report = check_environment(session, args.alarm_regions)
        report.checked[:0] = soaked
    print(report.render())
    return 0 if report.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
