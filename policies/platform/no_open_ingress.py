"""No security group admits the whole internet, except a public load balancer on 443."""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext, tags_of

ANYWHERE = {"0.0.0.0/0", "::/0"}
PUBLIC_LOAD_BALANCER_TAG = "platform.io/public-load-balancer"
"""Tag (value "true") on the one kind of security group allowed 443 from anywhere."""


def _rules(resource_type: str, properties: dict) -> list[dict]:
    if resource_type == "AWS::EC2::SecurityGroup":
        return properties.get("SecurityGroupIngress", [])
    if resource_type == "AWS::EC2::SecurityGroupIngress":
        return [properties]
    return []


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    properties = resource.get("Properties", {})
    public_lb = tags_of(resource).get(PUBLIC_LOAD_BALANCER_TAG) == "true"
    for rule in _rules(resource_type, properties):
        source = rule.get("CidrIp") or rule.get("CidrIpv6")
        if source not in ANYWHERE:
            continue
        https_only = (
            rule.get("IpProtocol") == "tcp" and rule.get("FromPort") == rule.get("ToPort") == 443
        )
        if not (public_lb and https_only):
            return f"ingress from {source} on {rule.get('IpProtocol')} {rule.get('FromPort')}"
    return None


RULE = Rule(
    "NoOpenIngress",
    "No security group admits 0.0.0.0/0 or ::/0, except a public load balancer on 443.",
    _check,
)
