"""No security group admits the whole internet.

The platform runs no internet-facing load balancer of its own (viewers reach CloudFront, whose
VPC origin reaches an internal ALB), so there is no standing exception: a construct that
needs one acknowledges `Platform::NoOpenIngress` on its security group, with a reason a
reviewer reads. (A tag that exempted "a public load balancer on 443" let any construct exempt
itself without a review.)
"""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext

ANYWHERE = {"0.0.0.0/0", "::/0"}


def _rules(resource_type: str, properties: dict) -> list[dict]:
    if resource_type == "AWS::EC2::SecurityGroup":
        return properties.get("SecurityGroupIngress", [])
    if resource_type == "AWS::EC2::SecurityGroupIngress":
        return [properties]
    return []


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    properties = resource.get("Properties", {})
    for rule in _rules(resource_type, properties):
        source = rule.get("CidrIp") or rule.get("CidrIpv6")
        if source in ANYWHERE:
            return f"ingress from {source} on {rule.get('IpProtocol')} {rule.get('FromPort')}"
    return None


RULE = Rule(
    "NoOpenIngress",
    "No security group admits 0.0.0.0/0 or ::/0 (acknowledge a reviewed exception).",
    _check,
)
