"""No IAM policy allows every action on every resource."""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext

POLICY_TYPES = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies",),
}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _statements(resource_type: str, properties: dict) -> list[dict]:
    if resource_type == "AWS::IAM::Role":
        documents = [p.get("PolicyDocument", {}) for p in properties.get("Policies", [])]
    else:
        documents = [properties.get("PolicyDocument", {})]
    return [s for d in documents for s in _as_list(d.get("Statement"))]


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type not in POLICY_TYPES:
        return None
    for statement in _statements(resource_type, resource.get("Properties", {})):
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if statement.get("Effect") == "Allow" and "*" in actions and "*" in resources:
            return f"statement {statement.get('Sid', '(no Sid)')} allows * on *"
    return None


RULE = Rule("NoAdminWildcards", "No IAM statement allows the action * on the resource *.", _check)
