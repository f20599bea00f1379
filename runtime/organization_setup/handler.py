"""Custom resource: the AWS Organizations steps CloudFormation has no resource for.

Runs in the management account. Properties (all lists, all optional):

- `RootId`: the organisation's root (`r-...`), required with `PolicyTypes` or `Placement`.
- `PolicyTypes`: policy types to enable on the root (SERVICE_CONTROL_POLICY, TAG_POLICY).
- `ServiceAccess`: service principals given trusted access to the organisation.
- `DelegatedAdministrators`: `[{"ServicePrincipal": ..., "AccountId": ...}]`. GuardDuty and
  CloudTrail are registered through their own APIs (which also create what they need in the
  account); every other service through Organizations.
- `Placement`: `[{"AccountId": ..., "ParentId": ...}]`: the OU each account belongs in.
- `GuardDutyOrganization`: `{"DetectorId": ..., "Features": [...]}`, in GuardDuty's delegated
  administrator account: turn GuardDuty and those protections on in every member account,
  present and future (`AutoEnable` ALL); off again (NONE) on delete.

Every step reads the current state first and changes only what differs, so a retry, a
re-deploy or an account already in place is a no-op. On update, administrators and placements
that left the properties are undone; on delete, all of them are (accounts go back to the
root, so CloudFormation can then delete the OUs). Trusted access and policy types are left
enabled on delete: turning them off would silently detach every policy of that type.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

GUARDDUTY = "guardduty.amazonaws.com"
CLOUDTRAIL = "cloudtrail.amazonaws.com"

Event = Mapping[str, Any]
Respond = Callable[[Event, str, str, str], None]


def send_response(event: Event, status: str, physical_id: str, reason: str) -> None:
    """PUT the result to CloudFormation's pre-signed URL (the cfn-response protocol)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        LOG.info("CloudFormation answered %s", response.status)


def handler(
    event: Event, context: Any, *, session: Any = None, respond: Respond = send_response
) -> None:
    """Apply the request and always answer CloudFormation (a silent failure would leave the
    stack waiting for an hour)."""
    properties = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or (
        f"organization-setup-{properties.get('RootId') or 'guardduty'}"
    )
    try:
        setup = OrganizationSetup(session or boto3.Session())
        kind = event["RequestType"]
        old = event.get("OldResourceProperties", {})
        if kind == "Delete":
            setup.undo(properties, keep={})
        else:
            setup.apply(properties)
            if kind == "Update":
                setup.undo(old, keep=properties)
    except Exception as error:  # answer with the reason instead of timing out
        LOG.exception("%s failed", event.get("RequestType"))
        respond(event, "FAILED", physical_id, f"{type(error).__name__}: {error}")
        return
    respond(event, "SUCCESS", physical_id, "done")


def _admins(properties: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (a["ServicePrincipal"], a["AccountId"])
        for a in properties.get("DelegatedAdministrators", [])
    }


def _placement(properties: Mapping[str, Any]) -> dict[str, str]:
    return {p["AccountId"]: p["ParentId"] for p in properties.get("Placement", [])}


class OrganizationSetup:
    """Idempotent Organizations, GuardDuty and CloudTrail calls."""

    def __init__(self, session: Any) -> None:
        self.organizations = session.client("organizations")
        self.guardduty = session.client("guardduty")
        self.cloudtrail = session.client("cloudtrail")

    def apply(self, properties: Mapping[str, Any]) -> None:
        if properties.get("PolicyTypes"):
            self.enable_policy_types(properties["RootId"], properties["PolicyTypes"])
        if properties.get("ServiceAccess"):
            self.enable_service_access(properties["ServiceAccess"])
        for service, account in sorted(_admins(properties)):
            self.register_admin(service, account)
        for account, parent in sorted(_placement(properties).items()):
            self.move(account, parent)
        guardduty = properties.get("GuardDutyOrganization")
        if guardduty:
            self.auto_enable_guardduty(guardduty["DetectorId"], guardduty["Features"], "ALL")

    def undo(self, properties: Mapping[str, Any], *, keep: Mapping[str, Any]) -> None:
        """Undo what `properties` set and `keep` does not."""
        guardduty = properties.get("GuardDutyOrganization")
        if guardduty and not keep.get("GuardDutyOrganization"):
            self.auto_enable_guardduty(guardduty["DetectorId"], guardduty["Features"], "NONE")
        for service, account in sorted(_admins(properties) - _admins(keep)):
            self.deregister_admin(service, account)
        kept = _placement(keep)
        for account in sorted(set(_placement(properties)) - set(kept)):
            self.move(account, properties["RootId"])

    # --- steps --------------------------------------------------------------------------

    def enable_policy_types(self, root_id: str, policy_types: Iterable[str]) -> None:
        roots = {r["Id"]: r for r in self.organizations.list_roots()["Roots"]}
        root = roots.get(root_id)
        if root is None:
            raise ValueError(f"RootId {root_id!r} is not this organisation's root")
        enabled = {t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] == "ENABLED"}
        for policy_type in policy_types:
            if policy_type not in enabled:
                LOG.info("enabling policy type %s", policy_type)
                self.organizations.enable_policy_type(RootId=root_id, PolicyType=policy_type)

    def enable_service_access(self, principals: Iterable[str]) -> None:
        enabled = {
            s["ServicePrincipal"]
            for page in self.organizations.get_paginator(
                "list_aws_service_access_for_organization"
            ).paginate()
            for s in page["EnabledServicePrincipals"]
        }
        for principal in principals:
            if principal not in enabled:
                LOG.info("enabling trusted access for %s", principal)
                self.organizations.enable_aws_service_access(ServicePrincipal=principal)

    def register_admin(self, service: str, account: str) -> None:
        if account in self._admins_of(service):
            return
        LOG.info("registering %s as delegated administrator of %s", account, service)
        if service == GUARDDUTY:
            self.guardduty.enable_organization_admin_account(AdminAccountId=account)
        elif service == CLOUDTRAIL:
            self.cloudtrail.register_organization_delegated_admin(MemberAccountId=account)
        else:
            self.organizations.register_delegated_administrator(
                AccountId=account, ServicePrincipal=service
            )

    def deregister_admin(self, service: str, account: str) -> None:
        if account not in self._admins_of(service):
            return
        LOG.info("deregistering %s as delegated administrator of %s", account, service)
        if service == GUARDDUTY:
            self.guardduty.disable_organization_admin_account(AdminAccountId=account)
        elif service == CLOUDTRAIL:
            self.cloudtrail.deregister_organization_delegated_admin(DelegatedAdminAccountId=account)
        else:
            self.organizations.deregister_delegated_administrator(
                AccountId=account, ServicePrincipal=service
            )

    def auto_enable_guardduty(self, detector_id: str, features: Iterable[str], mode: str) -> None:
        """GuardDuty (and `features`) in every member account: a set, so idempotent."""
        LOG.info("GuardDuty organisation auto-enable: %s", mode)
        self.guardduty.update_organization_configuration(
            DetectorId=detector_id,
            AutoEnableOrganizationMembers=mode,
            Features=[{"Name": feature, "AutoEnable": mode} for feature in features],
        )

    def move(self, account: str, parent: str) -> None:
        (current,) = self.organizations.list_parents(ChildId=account)["Parents"]
        if current["Id"] != parent:
            LOG.info("moving %s from %s to %s", account, current["Id"], parent)
            self.organizations.move_account(
                AccountId=account, SourceParentId=current["Id"], DestinationParentId=parent
            )

    # --- reads --------------------------------------------------------------------------

    def _admins_of(self, service: str) -> set[str]:
        """Accounts registered for `service` (CloudTrail's registrations show in
        Organizations like any other service's)."""
        if service == GUARDDUTY:
            accounts = self.guardduty.list_organization_admin_accounts()["AdminAccounts"]
            return {a["AdminAccountId"] for a in accounts if a.get("AdminStatus") == "ENABLED"}
        pages = self.organizations.get_paginator("list_delegated_administrators").paginate(
            ServicePrincipal=service
        )
        return {a["Id"] for page in pages for a in page["DelegatedAdministrators"]}
