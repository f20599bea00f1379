"""What the cloud assembly needs from the organisation, and which of its stacks create what.

Read from the synthesized templates rather than restated here, so a stack that moves (the
management account leaving the pipeline, say) or starts creating a prerequisite itself is
seen without touching the preflight:

- the environments (account, region) to bootstrap, and the bootstrap version each needs
  (`requiresBootstrapStackVersion` of its stack artifacts);
- trusted access: a `Custom::OrganizationSetup` resource lists the service principals it
  enables in `ServiceAccess`; an `AWS::SecurityHub::DelegatedAdmin` enables Security Hub's;
- RAM sharing with the organisation: needed by every `AWS::RAM::ResourceShare` whose
  principal is the organisation, an OU or an account id; created by a resource that calls RAM's
  `EnableSharingWithAwsOrganization` or an OrganizationSetup that lists `ram.amazonaws.com`;
- service-linked roles: created by an `AWS::IAM::ServiceLinkedRole` (or a custom resource
  calling `CreateServiceLinkedRole` for the service) in the account's stacks;
- the parent zone: the `AWS::Route53::HostedZone` of that name in the account's stacks;
- chat workspaces: each AWS Chatbot channel configuration names a Slack workspace or a
  Microsoft Teams team that must already be authorised in its account (a console step).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.assembly import StackArtifact, read_stacks

SETUP_TYPE = "Custom::OrganizationSetup"
SECURITY_HUB = "securityhub.amazonaws.com"
RAM = "ram.amazonaws.com"


@dataclass(frozen=True)
class Creator:
    """A stack of the assembly that creates a prerequisite."""

    path: str
    """`management/Organization`: how the runbook and `cdk deploy` name it."""
    stack_name: str
    account_id: str
    region: str

    @classmethod
    def of(cls, stack: StackArtifact) -> Creator:
        return cls(stack.path, stack.stack_name, stack.account_id, stack.region)


@dataclass(frozen=True, order=True)
class ChatWorkspace:
    """A Slack workspace (its id) or a Microsoft Teams team (its id and tenant)."""

    kind: str
    """`slack` or `teams`."""
    id: str
    tenant: str = ""


class Needs:
    """The assembly's stacks, asked what the organisation must provide."""

    def __init__(self, stacks: Mapping[str, StackArtifact]) -> None:
        self.stacks = dict(stacks)

    @classmethod
    def read(cls, outdir: Path) -> Needs:
        return cls(read_stacks(outdir))

    def environments(self) -> dict[tuple[str, str], int]:
        """(account id, region) -> the highest bootstrap version its stacks need."""
        needed: dict[tuple[str, str], int] = {}
        for stack in self.stacks.values():
            key = (stack.account_id, stack.region)
            needed[key] = max(needed.get(key, 0), stack.bootstrap_version)
        return dict(sorted(needed.items()))

    def account_ids(self) -> set[str]:
        return {stack.account_id for stack in self.stacks.values()}

    def trusted_access_creator(self, principal: str) -> Creator | None:
        for stack, resource in self._resources():
            if resource["Type"] == SETUP_TYPE and principal in _properties(resource).get(
                "ServiceAccess", ()
            ):
                return Creator.of(stack)
            if principal == SECURITY_HUB and resource["Type"] == "AWS::SecurityHub::DelegatedAdmin":
                return Creator.of(stack)
        return None

    def organisation_shares(self) -> list[Creator]:
        """Stacks sharing a resource through RAM with the organisation, an OU or its accounts
        (without sharing enabled for the organisation, an account would get an invitation)."""
        return _unique(
            Creator.of(stack)
            for stack, resource in self._resources()
            if resource["Type"] == "AWS::RAM::ResourceShare"
            and any(
                ":organization/" in str(p) or ":ou/" in str(p) or str(p).isdigit()
                for p in _properties(resource).get("Principals", ())
            )
        )

    def ram_sharing_creator(self) -> Creator | None:
        for stack, resource in self._resources():
            text = json.dumps(_properties(resource)).lower()
            if "enablesharingwithawsorganization" in text or (
                resource["Type"] == SETUP_TYPE
                and RAM in _properties(resource).get("ServiceAccess", ())
            ):
                return Creator.of(stack)
        return None

    def service_linked_role_creator(self, account_id: str, service: str) -> Creator | None:
        """The stack of `account_id` that creates `service`'s service-linked role."""
        for stack, resource in self._resources(account_id):
            properties = _properties(resource)
            if resource["Type"] == "AWS::IAM::ServiceLinkedRole":
                if properties.get("AWSServiceName") == service:
                    return Creator.of(stack)
                continue
            text = json.dumps(properties)
            if "createservicelinkedrole" in text.lower() and service in text:
                return Creator.of(stack)
        return None

    def hosted_zone_creator(self, account_id: str, zone_name: str) -> Creator | None:
        for stack, resource in self._resources(account_id):
            if resource["Type"] == "AWS::Route53::HostedZone" and _properties(resource).get(
                "Name", ""
            ).rstrip(".") == zone_name.rstrip("."):
                return Creator.of(stack)
        return None

    def chat_workspaces(self) -> dict[str, set[ChatWorkspace]]:
        """Account id -> the chat workspaces its Chatbot configurations post to (each must be
        authorised in that account before the stack deploys)."""
        found: dict[str, set[ChatWorkspace]] = {}
        for stack, resource in self._resources():
            properties = _properties(resource)
            if resource["Type"] == "AWS::Chatbot::SlackChannelConfiguration":
                workspace = ChatWorkspace("slack", str(properties["SlackWorkspaceId"]))
            elif resource["Type"] == "AWS::Chatbot::MicrosoftTeamsChannelConfiguration":
                workspace = ChatWorkspace(
                    "teams", str(properties["TeamId"]), str(properties["TeamsTenantId"])
                )
            else:
                continue
            found.setdefault(stack.account_id, set()).add(workspace)
        return dict(sorted(found.items()))

    def _resources(
        self, account_id: str | None = None
    ) -> Iterator[tuple[StackArtifact, dict[str, Any]]]:
        for stack in self.stacks.values():
            if account_id is None or stack.account_id == account_id:
                for resource in stack.resources.values():
                    yield stack, resource


def _properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties", {})
    return properties if isinstance(properties, dict) else {}


def _unique(creators: Iterator[Creator]) -> list[Creator]:
    return list(dict.fromkeys(creators))
