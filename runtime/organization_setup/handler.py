"""Custom resource: the AWS steps CloudFormation has no resource (or no tolerant one) for.

Runs in the management account (the organisation's settings) or in the security account
(GuardDuty's detector and organisation settings, Security Hub). Properties (all optional):

- `RootId`: the organisation's root (`r-...`), required with `PolicyTypes` or `Placement`.
- `PolicyTypes`: policy types to enable on the root (SERVICE_CONTROL_POLICY, TAG_POLICY), and
  wait for: EnablePolicyType is asynchronous, and a policy of a type can be attached only
  once the type is ENABLED on the root, not while it is PENDING_ENABLE
  (https://docs.aws.amazon.com/organizations/latest/APIReference/API_PolicyTypeSummary.html);
  the step polls ListRoots, as AWS recommends, for at most `POLICY_TYPE_WAIT_SECONDS`.
- `ServiceAccess`: service principals given trusted access to the organisation.
- `ResourceSharing`: `true`: resource sharing with the organisation through RAM
  (see `OrganizationSetup.enable_resource_sharing`).
- `DelegatedAdministrators`: `[{"ServicePrincipal": ..., "AccountId": ..., "Regions": [...]}]`.
  GuardDuty and CloudTrail are registered through their own APIs (which also create what they
  need in the account); every other service through Organizations. GuardDuty's and Security
  Hub's designations are regional (`REGIONAL_ADMINS`): they are made in each of `Regions`
  (GuardDuty's default: the function's own region).
- `Placement`: `[{"AccountId": ..., "ParentId": ...}]`: the OU each account belongs in.
- `CrossAccountBackup`: `true`: AWS Backup may copy recovery points between the
  organisation's accounts (see `OrganizationSetup.enable_cross_account_backup`); management
  account only.
- `GuardDutyDetector`: `{"Features": [...], "AdditionalConfiguration": {feature: [...]},
  "FindingPublishingFrequency": ..., "Regions": [...]}`: this account's detector in its own
  region and each of `Regions`, created with those settings only if there is none (see
  `ensure_guardduty_detector`). Answers `DetectorId` (the own region's).
- `GuardDutyOrganization`: `{"DetectorId": ..., "Features": [...], "AdditionalConfiguration":
  {feature: [...]}}`, in GuardDuty's delegated administrator account: turn GuardDuty, those
  protections and their additional configuration (e.g. RUNTIME_MONITORING's
  EKS_ADDON_MANAGEMENT: GuardDuty manages the agent) on in every member account, present and
  future (`AutoEnable` ALL); off again (NONE) on delete. With `"Regions": [...]`, the same in
  each of those regions too (the detector there found by ListDetectors: one per region).
- `SecurityHub`: `{"ControlFindingGenerator": ..., "AutoEnableControls": ..., "Standards":
  [...], "Regions": {region: [standards]}}`: Security Hub in this account with those settings
  and standards, enabled only if it is not (see `ensure_security_hub`), in its own region
  and in each of `Regions` with that region's standards. Answers `HubArn` (the own region's).
- `SecurityHubOrganization`: `{"Regions": [...]}`, in Security Hub's delegated administrator
  account: Security Hub (with its default standards) enabled automatically in accounts that
  join the organisation, in each of those regions (the own region's is the stack's
  `AWS::SecurityHub::OrganizationConfiguration`). Left on when deleted.

Every step reads the current state first and changes only what differs, so a retry, a
re-deploy or an account already in place is a no-op. On update, administrators and
placements that left the properties are undone; on delete, all of them are (accounts go back
to the root, so CloudFormation can then delete the OUs). Trusted access, resource sharing,
cross-account backup and policy types are left enabled on delete: turning them off would
silently detach every policy of that type, break every share or fail every copy job.

In a member account (the security account) the function never calls what the baseline SCP
denies to all but CloudFormation's execution role (guardduty:UpdateDetector,
securityhub:BatchDisableStandards, ...; constructs_lib/organization/guardrails.py): it turns
things on and reads, and leaves GuardDuty's detector, Security Hub and its standards on when
the resource is deleted or a standard leaves the list. They hold the organisation's findings.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from time import monotonic, sleep
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

GUARDDUTY = "guardduty.amazonaws.com"
SECURITY_HUB = "securityhub.amazonaws.com"
REGIONAL_ADMINS = {GUARDDUTY: "guardduty", SECURITY_HUB: "securityhub"}
"""Services whose delegated administrator is designated per region, through the service's own
EnableOrganizationAdminAccount, from the management account: "in the current Region"
(https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html); "The
organization management account designates the Security Hub administrator account in each
Region" (https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html)."""
CLOUDTRAIL = "cloudtrail.amazonaws.com"
RAM = "ram.amazonaws.com"
BACKUP = "backup.amazonaws.com"
RAM_ROLE_PATH = "/aws-service-role/ram.amazonaws.com/"
"""Where RAM's service-linked role (AWSServiceRoleForResourceAccessManager) lives."""

POLICY_TYPE_WAIT_SECONDS = 180
"""How long to wait for a policy type to become ENABLED (the function may run 300 s)."""
POLL_SECONDS = 5

Event = Mapping[str, Any]
Respond = Callable[[Event, str, str, str, Mapping[str, str]], None]


def send_response(
    event: Event, status: str, physical_id: str, reason: str, data: Mapping[str, str]
) -> None:
    """PUT the result to CloudFormation's pre-signed URL (the cfn-response protocol); `data`
    becomes the resource's attributes (`Fn::GetAtt`)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(data),
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


def physical_id_of(properties: Mapping[str, Any]) -> str:
    """One physical id per kind of resource: it never changes, so no update replaces one."""
    if properties.get("RootId"):
        return f"organization-setup-{properties['RootId']}"
    if "GuardDutyDetector" in properties:
        return "guardduty-detector"
    if "SecurityHub" in properties:
        return "security-hub"
    if "SecurityHubOrganization" in properties:
        return "security-hub-organization"
    return "organization-setup-guardduty"


def handler(
    event: Event, context: Any, *, session: Any = None, respond: Respond = send_response
) -> None:
    """Apply the request and always answer CloudFormation (a silent failure would leave the
    stack waiting for an hour)."""
    properties = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or physical_id_of(properties)
    data: dict[str, str] = {}
    try:
        setup = OrganizationSetup(session or boto3.Session())
        kind = event["RequestType"]
        old = event.get("OldResourceProperties", {})
        if kind == "Delete":
            setup.undo(properties, keep={})
        else:
            data = setup.apply(properties)
            if kind == "Update":
                setup.undo(old, keep=properties)
    except Exception as error:  # answer with the reason instead of timing out
        LOG.exception("%s failed", event.get("RequestType"))
        respond(event, "FAILED", physical_id, f"{type(error).__name__}: {error}", {})
        return
    respond(event, "SUCCESS", physical_id, "done", data)


def _admins(properties: Mapping[str, Any], home: str) -> set[tuple[str, str, str]]:
    """(service, account, region) of each designation; region "" for an organisation-wide
    one, `home` for a regional service given no `Regions`."""
    return {
        (a["ServicePrincipal"], a["AccountId"], region)
        for a in properties.get("DelegatedAdministrators", [])
        for region in (
            a.get("Regions") or [home] if a["ServicePrincipal"] in REGIONAL_ADMINS else [""]
        )
    }


def _placement(properties: Mapping[str, Any]) -> dict[str, str]:
    return {p["AccountId"]: p["ParentId"] for p in properties.get("Placement", [])}


def flag(value: Any) -> bool:
    """A boolean property: CloudFormation passes every property value as a string."""
    return str(value).lower() == "true"


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


class OrganizationSetup:
    """Idempotent Organizations, RAM, GuardDuty, CloudTrail and Security Hub calls. Each
    client is made when a step first needs it."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.home = getattr(session, "region_name", None) or ""
        """The function's own region: where the default clients call."""
        self._regional: dict[tuple[str, str], Any] = {}

    def client(self, name: str, region: str = "") -> Any:
        """`name`'s client in `region` (default, or the home region: the cached client)."""
        if not region or region == self.home:
            return getattr(self, name)
        if (name, region) not in self._regional:
            self._regional[name, region] = self.session.client(name, region_name=region)
        return self._regional[name, region]

    def regions(self, properties: Mapping[str, Any]) -> list[str]:
        """The home region and the other `Regions` a property names, home first."""
        others = properties.get("Regions") or []
        return [self.home, *(r for r in sorted(others) if r != self.home)]

    @cached_property
    def organizations(self) -> Any:
        return self.session.client("organizations")

    @cached_property
    def guardduty(self) -> Any:
        return self.session.client("guardduty")

    @cached_property
    def cloudtrail(self) -> Any:
        return self.session.client("cloudtrail")

    @cached_property
    def ram(self) -> Any:
        return self.session.client("ram")

    @cached_property
    def iam(self) -> Any:
        return self.session.client("iam")

    @cached_property
    def securityhub(self) -> Any:
        return self.session.client("securityhub")

    @cached_property
    def backup(self) -> Any:
        return self.session.client("backup")

    def apply(self, properties: Mapping[str, Any]) -> dict[str, str]:
        """Apply `properties`; answer what the resource exposes."""
        data: dict[str, str] = {}
        if properties.get("PolicyTypes"):
            self.enable_policy_types(properties["RootId"], properties["PolicyTypes"])
        if properties.get("ServiceAccess"):
            self.enable_service_access(properties["ServiceAccess"])
        if flag(properties.get("ResourceSharing")):
            self.enable_resource_sharing()
        for service, account, region in sorted(_admins(properties, self.home)):
            self.register_admin(service, account, region)
        for account, parent in sorted(_placement(properties).items()):
            self.move(account, parent)
        if flag(properties.get("CrossAccountBackup")):
            self.enable_cross_account_backup()
        detector = properties.get("GuardDutyDetector")
        if detector:
            for region in reversed(self.regions(detector)):  # the home region's answered
                data["DetectorId"] = self.ensure_guardduty_detector(
                    detector["Features"],
                    detector["FindingPublishingFrequency"],
                    detector.get("AdditionalConfiguration", {}),
                    region=region,
                )
        guardduty = properties.get("GuardDutyOrganization")
        if guardduty:
            self._auto_enable_guardduty_everywhere(guardduty, "ALL")
        hub = properties.get("SecurityHub")
        if hub:
            standards = {self.home: hub.get("Standards", []), **(hub.get("Regions") or {})}
            for region in reversed(self.regions({"Regions": list(standards)})):
                data["HubArn"] = self.ensure_security_hub(
                    hub["ControlFindingGenerator"],
                    flag(hub["AutoEnableControls"]),
                    standards[region],
                    region=region,
                )
        organization = properties.get("SecurityHubOrganization")
        if organization:
            for region in sorted(organization.get("Regions") or []):
                self.auto_enable_security_hub(region)
        return data

    def _auto_enable_guardduty_everywhere(self, guardduty: Mapping[str, Any], mode: str) -> None:
        """The home region with the detector id given, each other region with its one
        detector (`ensure_guardduty_detector` made it)."""
        for region in self.regions(guardduty):
            detector_id = guardduty["DetectorId"] if region == self.home else None
            self.auto_enable_guardduty(
                detector_id or self._detector(region),
                guardduty["Features"],
                mode,
                guardduty.get("AdditionalConfiguration", {}),
                region=region,
            )

    def undo(self, properties: Mapping[str, Any], *, keep: Mapping[str, Any]) -> None:
        """Undo what `properties` set and `keep` does not."""
        guardduty = properties.get("GuardDutyOrganization")
        if guardduty and not keep.get("GuardDutyOrganization"):
            self._auto_enable_guardduty_everywhere(guardduty, "NONE")
        elif guardduty:
            gone = set(self.regions(guardduty)) - set(self.regions(keep["GuardDutyOrganization"]))
            for region in sorted(gone):
                self.auto_enable_guardduty(
                    self._detector(region),
                    guardduty["Features"],
                    "NONE",
                    guardduty.get("AdditionalConfiguration", {}),
                    region=region,
                )
        for service, account, region in sorted(
            _admins(properties, self.home) - _admins(keep, self.home)
        ):
            self.deregister_admin(service, account, region)
        kept = _placement(keep)
        for account in sorted(set(_placement(properties)) - set(kept)):
            self.move(account, properties["RootId"])

    # --- steps --------------------------------------------------------------------------

    def enable_policy_types(self, root_id: str, policy_types: Iterable[str]) -> None:
        """Enable each type that is neither ENABLED nor PENDING_ENABLE, then wait until
        every one of them is ENABLED (a bounded wait: a timeout fails the deployment)."""
        wanted = list(policy_types)
        statuses = self._policy_types(root_id)
        requested = [t for t in wanted if statuses.get(t) not in ("ENABLED", "PENDING_ENABLE")]
        for policy_type in requested:
            LOG.info("enabling policy type %s", policy_type)
            try:
                self.organizations.enable_policy_type(RootId=root_id, PolicyType=policy_type)
            except self.organizations.exceptions.PolicyTypeAlreadyEnabledException:
                LOG.info("policy type %s was enabled meanwhile", policy_type)
        if requested:
            statuses = self._policy_types(root_id)
        deadline = monotonic() + POLICY_TYPE_WAIT_SECONDS
        while True:
            pending = sorted(t for t in wanted if statuses.get(t) != "ENABLED")
            if not pending:
                return
            if monotonic() >= deadline:
                raise TimeoutError(
                    f"policy types {pending} of root {root_id} are still not ENABLED after "
                    f"{POLICY_TYPE_WAIT_SECONDS} s"
                )
            sleep(POLL_SECONDS)
            statuses = self._policy_types(root_id)

    def enable_service_access(self, principals: Iterable[str]) -> None:
        enabled = self._trusted_access()
        for principal in principals:
            if principal not in enabled:
                LOG.info("enabling trusted access for %s", principal)
                self.organizations.enable_aws_service_access(ServicePrincipal=principal)

    def enable_resource_sharing(self) -> None:
        """Resource sharing with the organisation (the Transit Gateway's share names the
        organisation), once, from the management account.

        RAM's EnableSharingWithAwsOrganization enables trusted access for ram.amazonaws.com
        *and* creates RAM's service-linked role AWSServiceRoleForResourceAccessManager
        (https://docs.aws.amazon.com/goto/WebAPI/ram/EnableSharingWithAwsOrganization);
        enabling trusted access through Organizations instead leaves the role out, and
        sharing with the organisation does not work
        (https://docs.aws.amazon.com/ram/latest/userguide/getting-started-sharing.html). So
        both are read, and RAM's call is made unless both are there. The role is looked up by
        its path (ListRoles), not by name (GetRole): a read that needs no guess at the ARN
        IAM authorises for a role that does not exist yet.
        """
        if RAM in self._trusted_access() and self._roles_under(RAM_ROLE_PATH):
            return
        LOG.info("enabling resource sharing with the organisation")
        self.ram.enable_sharing_with_aws_organization()

    def enable_cross_account_backup(self) -> None:
        """Cross-account backup for the organisation, which every copy job into another
        account's vault needs: trusted access for AWS Backup, then its global setting
        `isCrossAccountBackupEnabled`, both only from the management account
        (https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html,
        https://docs.aws.amazon.com/aws-backup/latest/devguide/API_UpdateGlobalSettings.html).
        Each is read first and set only if it is not; both stay on when the resource is
        deleted or the property leaves (turning them off would fail every copy job)."""
        if BACKUP not in self._trusted_access():
            LOG.info("enabling trusted access for %s", BACKUP)
            self.organizations.enable_aws_service_access(ServicePrincipal=BACKUP)
        settings = self.backup.describe_global_settings().get("GlobalSettings", {})
        if str(settings.get("isCrossAccountBackupEnabled", "")).lower() != "true":
            LOG.info("enabling cross-account backup")
            self.backup.update_global_settings(
                GlobalSettings={"isCrossAccountBackupEnabled": "true"}
            )

    def register_admin(self, service: str, account: str, region: str = "") -> None:
        if account in self._admins_of(service, region):
            return
        LOG.info("registering %s as delegated administrator of %s %s", account, service, region)
        if service in REGIONAL_ADMINS:
            self.client(REGIONAL_ADMINS[service], region).enable_organization_admin_account(
                AdminAccountId=account
            )
        elif service == CLOUDTRAIL:
            self.cloudtrail.register_organization_delegated_admin(MemberAccountId=account)
        else:
            self.organizations.register_delegated_administrator(
                AccountId=account, ServicePrincipal=service
            )

    def deregister_admin(self, service: str, account: str, region: str = "") -> None:
        if account not in self._admins_of(service, region):
            return
        LOG.info("deregistering %s as delegated administrator of %s %s", account, service, region)
        if service in REGIONAL_ADMINS:
            self.client(REGIONAL_ADMINS[service], region).disable_organization_admin_account(
                AdminAccountId=account
            )
        elif service == CLOUDTRAIL:
            self.cloudtrail.deregister_organization_delegated_admin(DelegatedAdminAccountId=account)
        else:
            self.organizations.deregister_delegated_administrator(
                AccountId=account, ServicePrincipal=service
            )

    def ensure_guardduty_detector(
        self,
        features: Iterable[str],
        frequency: str,
        additional: Mapping[str, Iterable[str]] | None = None,
        *,
        region: str = "",
    ) -> str:
        """This account's GuardDuty detector in `region` (default: the home region): created
        with `features` on if there is none, and its id answered either way.

        An account has at most one detector per Region, and CreateDetector fails where one
        exists (https://docs.aws.amazon.com/goto/WebAPI/guardduty/CreateDetector), so an
        `AWS::GuardDuty::Detector` fails wherever GuardDuty was already turned on. GuardDuty's
        documentation disagrees about whether designating the delegated administrator does
        that: "It also enables GuardDuty for the delegated GuardDuty administrator account"
        (https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html)
        against "Make sure to enable GuardDuty for your newly designated delegated GuardDuty
        administrator account" (https://docs.aws.amazon.com/guardduty/latest/ug/delegated-admin-designate.html).
        Either way this finds or makes the one detector. A detector that was there is left
        as it is: the baseline SCP lets only CloudFormation's execution role call
        UpdateDetector in a member account; settings that differ are logged as a warning.
        """
        wanted = sorted(features)
        settings = {
            "Enable": True,
            "FindingPublishingFrequency": frequency,
            "Features": [
                {
                    "Name": name,
                    "Status": "ENABLED",
                    **(
                        {
                            "AdditionalConfiguration": [
                                {"Name": extra, "Status": "ENABLED"}
                                for extra in (additional or {})[name]
                            ]
                        }
                        if name in (additional or {})
                        else {}
                    ),
                }
                for name in wanted
            ],
        }
        guardduty = self.client("guardduty", region)
        detectors = self._detectors(region)
        if not detectors:
            LOG.info("creating the GuardDuty detector in %s", region or self.home)
            return guardduty.create_detector(**settings)["DetectorId"]
        (detector_id,) = detectors
        current = guardduty.get_detector(DetectorId=detector_id)
        statuses = {f["Name"]: f["Status"] for f in current.get("Features", [])}
        off = [name for name in wanted if statuses.get(name) != "ENABLED"]
        if current.get("Status") != "ENABLED" or off:
            LOG.warning(
                "GuardDuty detector %s is %s with %s off; left as it is (UpdateDetector is "
                "CloudFormation's execution role's alone)",
                detector_id,
                current.get("Status"),
                off,
            )
        if current.get("FindingPublishingFrequency") != frequency:
            LOG.warning(
                "GuardDuty detector %s publishes findings every %s, not %s; left as it is",
                detector_id,
                current.get("FindingPublishingFrequency"),
                frequency,
            )
        return detector_id

    def auto_enable_guardduty(
        self,
        detector_id: str,
        features: Iterable[str],
        mode: str,
        additional: Mapping[str, Iterable[str]] | None = None,
        *,
        region: str = "",
    ) -> None:
        """GuardDuty (and `features`, with their `additional` configuration) in every member
        account, in `region` (default: the home region): a set, so idempotent."""
        LOG.info("GuardDuty organisation auto-enable in %s: %s", region or self.home, mode)
        extra = additional or {}
        self.client("guardduty", region).update_organization_configuration(
            DetectorId=detector_id,
            AutoEnableOrganizationMembers=mode,
            Features=[
                {
                    "Name": feature,
                    "AutoEnable": mode,
                    **(
                        {
                            "AdditionalConfiguration": [
                                {"Name": name, "AutoEnable": mode} for name in extra[feature]
                            ]
                        }
                        if feature in extra
                        else {}
                    ),
                }
                for feature in features
            ],
        )

    def ensure_security_hub(
        self,
        generator: str,
        auto_enable_controls: bool,
        standards: Iterable[str],
        *,
        region: str = "",
    ) -> str:
        """Security Hub in this account and `region` (default: the home region) with these
        settings and `standards` (that region's ARNs); its hub ARN.

        Designating the delegated administrator already enables Security Hub there: "It also
        enables Security Hub CSPM in the current AWS Region for the delegated administrator
        account" (https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html),
        so an `AWS::SecurityHub::Hub` in that account fails as already existing (enabling an
        enabled hub is a ResourceConflictException). This reads the hub and enables it only
        where it is off (a ResourceConflictException then means it came on meanwhile), sets
        the settings that differ, and enables only the standards that are not on: a standard
        already enabled (by default, when Security Hub is enabled with its default standards:
        https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableSecurityHub.html)
        makes `AWS::SecurityHub::Standard` fail the same way.
        """
        securityhub = self.client("securityhub", region)
        hub = self._hub(region)
        if hub is None:
            LOG.info("enabling Security Hub in %s", region or self.home)
            try:
                securityhub.enable_security_hub(
                    EnableDefaultStandards=False, ControlFindingGenerator=generator
                )
            except securityhub.exceptions.ResourceConflictException:
                LOG.info("Security Hub was enabled meanwhile")
            hub = self._hub(region)
            if hub is None:
                raise RuntimeError("Security Hub is still not enabled after EnableSecurityHub")
        if (
            hub.get("ControlFindingGenerator") != generator
            or hub.get("AutoEnableControls") != auto_enable_controls
        ):
            LOG.info("updating Security Hub's configuration")
            securityhub.update_security_hub_configuration(
                ControlFindingGenerator=generator, AutoEnableControls=auto_enable_controls
            )
        enabled = self._enabled_standards(region)
        missing = [arn for arn in standards if arn not in enabled]
        if missing:
            LOG.info("enabling standards %s", missing)
            securityhub.batch_enable_standards(
                StandardsSubscriptionRequests=[{"StandardsArn": arn} for arn in missing]
            )
        return hub["HubArn"]

    def auto_enable_security_hub(self, region: str) -> None:
        """Security Hub, with its default standards, in accounts that join the organisation,
        in `region`, as the delegated administrator (local configuration: a per-region
        setting, https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_UpdateOrganizationConfiguration.html).
        Read first; never turned off."""
        securityhub = self.client("securityhub", region)
        current = securityhub.describe_organization_configuration()
        if current.get("AutoEnable") and current.get("AutoEnableStandards") == "DEFAULT":
            return
        LOG.info("Security Hub organisation auto-enable in %s", region)
        securityhub.update_organization_configuration(
            AutoEnable=True, AutoEnableStandards="DEFAULT"
        )

    def move(self, account: str, parent: str) -> None:
        (current,) = self.organizations.list_parents(ChildId=account)["Parents"]
        if current["Id"] != parent:
            LOG.info("moving %s from %s to %s", account, current["Id"], parent)
            self.organizations.move_account(
                AccountId=account, SourceParentId=current["Id"], DestinationParentId=parent
            )

    # --- reads --------------------------------------------------------------------------

    def _policy_types(self, root_id: str) -> dict[str, str]:
        """The root's policy types by status (ENABLED, PENDING_ENABLE, PENDING_DISABLE)."""
        roots = {r["Id"]: r for r in self.organizations.list_roots()["Roots"]}
        root = roots.get(root_id)
        if root is None:
            raise ValueError(f"RootId {root_id!r} is not this organisation's root")
        return {t["Type"]: t["Status"] for t in root.get("PolicyTypes", [])}

    def _trusted_access(self) -> set[str]:
        return {
            s["ServicePrincipal"]
            for page in self.organizations.get_paginator(
                "list_aws_service_access_for_organization"
            ).paginate()
            for s in page["EnabledServicePrincipals"]
        }

    def _roles_under(self, path: str) -> list[str]:
        pages = self.iam.get_paginator("list_roles").paginate(PathPrefix=path)
        return [role["RoleName"] for page in pages for role in page["Roles"]]

    def _admins_of(self, service: str, region: str = "") -> set[str]:
        """Accounts registered for `service` (in `region`, for a regional one; CloudTrail's
        registrations show in Organizations like any other service's)."""
        if service in REGIONAL_ADMINS:
            client = self.client(REGIONAL_ADMINS[service], region)
            accounts = client.list_organization_admin_accounts()["AdminAccounts"]
            return {
                a.get("AdminAccountId", a.get("AccountId"))
                for a in accounts
                if a.get("AdminStatus", a.get("Status")) == "ENABLED"
            }
        pages = self.organizations.get_paginator("list_delegated_administrators").paginate(
            ServicePrincipal=service
        )
        return {a["Id"] for page in pages for a in page["DelegatedAdministrators"]}

    def _detectors(self, region: str = "") -> list[str]:
        pages = self.client("guardduty", region).get_paginator("list_detectors").paginate()
        return [d for page in pages for d in page["DetectorIds"]]

    def _detector(self, region: str) -> str:
        """The one detector of `region` (an account has at most one per region)."""
        detectors = self._detectors(region)
        if len(detectors) != 1:
            raise RuntimeError(f"{len(detectors)} GuardDuty detectors in {region}, not one")
        return detectors[0]

    def _hub(self, region: str = "") -> Mapping[str, Any] | None:
        """This account's hub in `region`, or None where Security Hub is not enabled."""
        try:
            return self.client("securityhub", region).describe_hub()
        except Exception as error:
            if _error_code(error) == "InvalidAccessException":  # "not subscribed"
                return None
            raise

    def _enabled_standards(self, region: str = "") -> set[str]:
        """The ARNs of the standards that are on (or coming on)."""
        pages = self.client("securityhub", region).get_paginator("get_enabled_standards").paginate()
        return {
            s["StandardsArn"]
            for page in pages
            for s in page["StandardsSubscriptions"]
            if s.get("StandardsStatus") not in ("DELETING", "FAILED")
        }
