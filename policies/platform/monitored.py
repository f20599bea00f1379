"""Nothing that can fail in production ships unmonitored.

A resource of a monitored type passes when its own template holds a CloudWatch alarm whose
metrics name it (a `Ref` or `Fn::GetAtt` of its logical id in the alarm's dimensions or metric
queries) and whose actions include an account alarm topic (`<prefix>-<account>-alarms`, see
`stages/naming.alarm_topic_name`), or an EventBridge rule whose pattern names it and whose
targets include such a topic (AWS Backup reports failed jobs as events, not metrics). A
template-level check: it reads every alarm and rule of the template once.

Two resources are watched in ways a `Ref` cannot show:

- A web ACL's metrics name it by its literal `Name` (its `Ref` is `name|id|scope`): it passes
  when such an alarm's dimension values include that name.
- A CloudFront distribution is built in its home region, but CloudFront publishes metrics to
  us-east-1 only, so its alarm is in another stack of the same stage (`EdgeAlarms`), naming
  the distribution's id through a cross-region reference (`Fn::GetStackOutput` of an output
  of the distribution's stack). The stage's other templates are read once for such
  references (`remote_watched`) and a resource passes when an output of its own stack that
  `Ref`s or `Fn::GetAtt`s it is so referenced by an alarm on an alarm topic.
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
        "AWS::CloudFront::Distribution",
        "AWS::WAFv2::WebACL",
        "AWS::SQS::Queue",
        "AWS::Pipes::Pipe",
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


NAMED_BY = {"AWS::WAFv2::WebACL": "Name"}
"""Types whose metrics name them by a literal property (not a `Ref`): type -> property."""


def _dimension_values(props: Mapping[str, Any]) -> set[str]:
    """The literal dimension values of an alarm's metric or metric-math metrics."""
    dimensions = list(props.get("Dimensions") or [])
    for query in props.get("Metrics") or []:
        if isinstance(query, Mapping):
            metric = query.get("MetricStat", {}).get("Metric", {})
            dimensions += metric.get("Dimensions") or []
    return {
        d["Value"] for d in dimensions if isinstance(d, Mapping) and isinstance(d.get("Value"), str)
    }


def _alarms_to_topic(template: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The properties of each alarm of the template that sends to an account alarm topic."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            props = resource.get("Properties", {})
            if _to_alarm_topic(props.get("AlarmActions", [])):
                yield props


def _stack_outputs(value: Any) -> Iterator[tuple[str, str]]:
    """(stack name, output name) of each `Fn::GetStackOutput` in `value`."""
    if isinstance(value, Mapping):
        reference = value.get("Fn::GetStackOutput")
        if isinstance(reference, Mapping):
            stack, output = reference.get("StackName"), reference.get("OutputName")
            if isinstance(stack, str) and isinstance(output, str):
                yield stack, output
        for item in value.values():
            yield from _stack_outputs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _stack_outputs(item)


def remote_watched(template: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(stack name, output name) of the other stacks' outputs the template's alarms on an
    account alarm topic take a metric dimension from."""
    found: set[tuple[str, str]] = set()
    for props in _alarms_to_topic(template):
        for key in ("Dimensions", "Metrics"):
            found |= set(_stack_outputs(props.get(key)))
    return found


def watched(template: Mapping[str, Any]) -> set[str]:
    """Logical ids an alarm or event rule of the template sends to an account alarm topic
    (and, as `literal:<value>`, the literal dimension values of such alarms)."""
    found: set[str] = set()
    for props in _alarms_to_topic(template):
        found |= _named(props.get("Dimensions")) | _named(props.get("Metrics"))
        found |= {f"literal:{value}" for value in _dimension_values(props)}
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Events::Rule":
            arns = [t.get("Arn") for t in props.get("Targets", [])]
            if _to_alarm_topic(arns):
                found |= _named(props.get("EventPattern"))
    return found


def unmonitored(
    template: Mapping[str, Any],
    *,
    stack_name: str | None = None,
    elsewhere: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
) -> Iterator[tuple[str, str]]:
    """(logical id, what is missing) for each monitored resource nothing watches.

    :param stack_name: the template's stack name, and `elsewhere` the `remote_watched`
        outputs of the stage's other templates: a resource passes when an output of this
        stack naming it is among them.
    """
    resources = template.get("Resources", {})
    seen = None
    for logical_id, resource in resources.items():
        kind = resource.get("Type", "")
        if kind not in MONITORED_TYPES or is_aurora_instance(kind, resource):
            continue
        if seen is None:
            seen = watched(template)
            if stack_name is not None:
                seen |= {
                    named
                    for output, body in template.get("Outputs", {}).items()
                    if (stack_name, output) in elsewhere
                    for named in _named(body.get("Value"))
                }
        name_property = NAMED_BY.get(kind)
        literal = resource.get("Properties", {}).get(name_property) if name_property else None
        if logical_id not in seen and not (
            isinstance(literal, str) and f"literal:{literal}" in seen
        ):
            yield logical_id, f"{kind} {logical_id} has no alarm on the account's alarm topic"
