"""Nothing that can fail in production ships unmonitored.

A resource of a monitored type passes when its own template holds a CloudWatch alarm whose
metrics name it (a `Ref` or `Fn::GetAtt` of its logical id in the alarm's dimensions or metric
queries) and whose actions include an account alarm topic (`<prefix>-<account>-alarms`, see
`stages/naming.alarm_topic_name`), or an EventBridge rule whose pattern names it and whose
targets include such a topic (AWS Backup reports failed jobs as events, not metrics). A
template-level check: it reads every alarm and rule of the template once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.platform.rule import is_aurora_instance

RULE_ID = "Monitored"
DESCRIPTION = (
    "Every resource of a monitored type has an alarm (or, for AWS Backup, an event rule) "
    "naming it and sending to its account's alarm topic."
)
ALARM_TOPIC_SUFFIX = "-alarms"
"""How an account alarm topic's name ends (`stages.naming.alarm_topic_name`)."""

MONITORED_TYPES = frozenset(
    {
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::OpenSearchService::Domain",
        "AWS::MSK::Cluster",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::NatGateway",
        "AWS::EC2::TransitGateway",
        "AWS::Lambda::Function",
        "AWS::Backup::BackupVault",
        "AWS::EKS::Cluster",
    }
)
"""What must be monitored. An Aurora cluster's instances are watched through the cluster."""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _to_alarm_topic(actions: Any) -> bool:
    """Whether `actions` (ARNs, perhaps as `Fn::Join` parts) include an account alarm topic."""
    for action in actions if isinstance(actions, list) else [actions]:
        text = action if isinstance(action, str) else "".join(_strings(action))
        if ":sns:" in text and text.endswith(ALARM_TOPIC_SUFFIX):
            return True
    return False


def _named(value: Any) -> set[str]:
    """The logical ids `value` refers to (`Ref`, `Fn::GetAtt`)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            found.add(attribute[0])
        for item in value.values():
            found |= _named(item)
    elif isinstance(value, list):
        for item in value:
            found |= _named(item)
    return found


def watched(template: Mapping[str, Any]) -> set[str]:
    """Logical ids an alarm or event rule of the template sends to an account alarm topic."""
    found: set[str] = set()
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            if _to_alarm_topic(props.get("AlarmActions", [])):
                found |= _named(props.get("Dimensions")) | _named(props.get("Metrics"))
        elif resource.get("Type") == "AWS::Events::Rule":
            arns = [t.get("Arn") for t in props.get("Targets", [])]
            if _to_alarm_topic(arns):
                found |= _named(props.get("EventPattern"))
    return found


def unmonitored(template: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(logical id, what is missing) for each monitored resource nothing watches."""
    resources = template.get("Resources", {})
    seen = None
    for logical_id, resource in resources.items():
        kind = resource.get("Type", "")
        if kind not in MONITORED_TYPES or is_aurora_instance(kind, resource):
            continue
        if seen is None:
            seen = watched(template)
        if logical_id not in seen:
            yield logical_id, f"{kind} {logical_id} has no alarm on the account's alarm topic"
