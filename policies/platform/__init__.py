"""The platform's own policy pack: rules no public pack states the way this product needs.

Registered like the cdk-nag packs (`policies.gate`), so a finding fails synthesis and is
acknowledged the same way: `Platform::<RuleId>` on the construct it is about. The rules run
in plain Python over the synthesized templates, one module each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from policies.platform import (
    cost_allocation_tags,
    customer_managed_keys,
    data_retention,
    monitored,
    no_admin_wildcards,
    no_open_ingress,
    no_public_buckets,
    pipeline_limits,
    stack_limits,
)
from policies.platform.rule import Rule, RuleContext

PACK_NAME = "Platform"
RULES: tuple[Rule, ...] = (
    cost_allocation_tags.RULE,
    customer_managed_keys.RULE,
    no_public_buckets.RULE,
    no_open_ingress.RULE,
    data_retention.RULE,
    no_admin_wildcards.RULE,
    pipeline_limits.RULE,
)


def evaluate(
    template: dict, context: RuleContext, rules: Iterable[Rule] = RULES
) -> list[tuple[str, str, str]]:
    """(rule id, logical id, message) for every finding in one template."""
    findings = []
    for logical_id, resource in template.get("Resources", {}).items():
        for rule in rules:
            message = rule.check(resource.get("Type", ""), resource, context)
            if message:
                findings.append((rule.id, logical_id, message))
    return findings


@cache
def template_accounts(assembly: Path) -> dict[str, str]:
    """Template file name -> the account its stack deploys to, from the assembly's manifest
    (`aws://<account>/<region>`); empty when there is no manifest or no concrete account."""
    try:
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    accounts = {}
    for artifact in manifest.get("artifacts", {}).values():
        template = artifact.get("properties", {}).get("templateFile")
        account = artifact.get("environment", "").removeprefix("aws://").split("/")[0]
        if template and account.isdigit():
            accounts[template] = account
    return accounts


def template_stack_names(assembly: Path) -> dict[str, str]:
    """Template file name -> its stack's name, from the assembly's manifest; empty when there
    is no manifest."""
    try:
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    names = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        template = properties.get("templateFile")
        if template:
            names[template] = properties.get("stackName", artifact_id)
    return names


@jsii.implements(IPolicyValidationPlugin)
class PlatformChecks:
    """The platform pack as a CDK validation plugin.

    :param required_tags: the cost-allocation tag keys every taggable resource carries.
    :param destroyable_assemblies: cloud-assembly folder names (`assembly-<stage>`) whose data
        may be destroyed; default none.
    """

    def __init__(
        self, *, required_tags: Sequence[str], destroyable_assemblies: Iterable[str] = ()
    ) -> None:
        self._required_tags = tuple(required_tags)
        self._destroyable = frozenset(destroyable_assemblies)

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return [*(rule.id for rule in RULES), stack_limits.RULE_ID, monitored.RULE_ID]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        descriptions = {rule.id: rule.description for rule in RULES}
        violations = []
        bodies = {path: Path(path).read_text(encoding="utf-8") for path in context.template_paths}
        templates = {path: json.loads(body) for path, body in bodies.items()}
        # Alarms of a stage's stacks on another stack's outputs (the distribution's, in
        # us-east-1): by assembly folder, a stage's templates.
        elsewhere: dict[Path, set[tuple[str, str]]] = {}
        for template_path, template in templates.items():
            elsewhere.setdefault(Path(template_path).parent, set()).update(
                monitored.remote_watched(template)
            )
        stack_names: dict[Path, dict[str, str]] = {}
        for template_path in context.template_paths:
            path = Path(template_path)
            rule_context = RuleContext(
                required_tags=self._required_tags,
                data_may_be_destroyed=path.parent.name in self._destroyable,
                account=template_accounts(path.parent).get(path.name),
            )
            body, template = bodies[template_path], templates[template_path]
            if path.parent not in stack_names:
                stack_names[path.parent] = template_stack_names(path.parent)
            for excess in stack_limits.excesses(template, len(body.encode())):
                violations.append(
                    _violation(
                        stack_limits.RULE_ID,
                        f"{stack_limits.DESCRIPTION} ({path.name}: {excess.message})",
                        excess.last_id or "",
                        template_path,
                        excess.section,
                    )
                )
            for logical_id, message in monitored.unmonitored(
                template,
                stack_name=stack_names[path.parent].get(path.name),
                elsewhere=elsewhere[path.parent],
            ):
                violations.append(
                    _violation(
                        monitored.RULE_ID,
                        f"{monitored.DESCRIPTION} ({message})",
                        logical_id,
                        template_path,
                    )
                )
            for rule_id, logical_id, message in evaluate(template, rule_context):
                violations.append(
                    _violation(
                        rule_id, f"{descriptions[rule_id]} ({message})", logical_id, template_path
                    )
                )
        return PolicyValidationPluginReport(success=not violations, violations=violations)


def _violation(
    rule: str, description: str, logical_id: str, template_path: str, location: str = "Resources"
) -> PolicyViolation:
    """One finding of the pack, as CDK's validation report takes it."""
    return PolicyViolation(
        rule_name=rule,
        description=description,
        severity="error",
        violating_resources=[
            PolicyViolatingResource(
                resource_logical_id=logical_id, template_path=template_path, locations=[location]
            )
        ],
    )
