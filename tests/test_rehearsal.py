"""The deploy rehearsal: the first rollout of the sample organisation succeeds in order, and
the rehearsal names the stack, the need and the missing producer when it would not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools.rehearsal import Problem, rehearse_plan
from tools.rehearsal.plan import BY_HAND, ByHand, DeploymentPlan, PlannedStack, plan_rollout

SECURITY, SHARED, DEV = "222222222222", "333333333333", "444444444444"
ARCHIVE = "exco-security-log-archive-222222222222-eu-west-1"
READER = "exco-shared-services-network-hub-reader"


def stack(
    path: str,
    account: str,
    resources: dict[str, Any],
    *,
    phase: int,
    start=1,
    end=2,
    provides=frozenset(),
    **extra,
) -> PlannedStack:
    return PlannedStack(
        provides=provides,
        path=path,
        stack_name=path.replace("/", "-"),
        account_id=account,
        region="eu-west-1",
        template={"Resources": resources, **extra},
        phase=phase,
        phase_name=f"phase {phase}",
        start=start,
        end=end,
    )


def plan_of(*stacks: PlannedStack) -> DeploymentPlan:
    return DeploymentPlan(stacks={s.path: s for s in stacks}, phases=["a", "b", "c"])


ARCHIVE_BUCKET = {"Archive": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": ARCHIVE}}}
DELIVERY = {
    "Delivery": {"Type": "AWS::Config::DeliveryChannel", "Properties": {"S3BucketName": ARCHIVE}}
}


def test_a_delivery_channel_after_its_bucket_passes() -> None:
    plan = plan_of(
        stack("security/LogArchive", SECURITY, ARCHIVE_BUCKET, phase=0),
        stack("dev/Baseline", DEV, DELIVERY, phase=1),
    )
    assert rehearse_plan(plan) == []


def test_a_delivery_channel_racing_its_bucket_in_one_wave_fails() -> None:
    """Same wave, both prepared at run order 1: the bucket is not there yet."""
    plan = plan_of(
        stack("security/LogArchive", SECURITY, ARCHIVE_BUCKET, phase=0),
        stack("shared-services/Baseline", SHARED, DELIVERY, phase=0),
    )
    assert [str(p) for p in rehearse_plan(plan)] == [
        f"shared-services/Baseline: bucket {ARCHIVE} (Delivery: delivers to it): produced only "
        "by security/LogArchive (phase 0), which does not deploy earlier"
    ]


def test_a_need_nothing_produces_is_named() -> None:
    share = {
        "Share": {
            "Type": "AWS::RAM::ResourceShare",
            "Properties": {"Principals": ["arn:aws:organizations::111111111111:organization/o-x"]},
        }
    }
    problems = rehearse_plan(plan_of(stack("shared-services/NetworkHub", SHARED, share, phase=1)))
    assert problems == [
        Problem(
            "shared-services/NetworkHub",
            "resource sharing with the organisation (ram:EnableSharingWithAwsOrganization, from "
            "the management account) (Share: shares with the organisation)",
            "nothing produces it and no prerequisite covers it",
            "resource sharing with the organisation (ram:EnableSharingWithAwsOrganization, "
            "from the management account)",
        )
    ]


def test_an_organisation_setting_made_earlier_passes() -> None:
    setup = {
        "Setup": {
            "Type": "Custom::OrganizationSetup",
            "Properties": {"ResourceSharing": True},
        }
    }
    share = {
        "Share": {
            "Type": "AWS::RAM::ResourceShare",
            "Properties": {"Principals": ["arn:aws:organizations::111111111111:organization/o-x"]},
        }
    }
    plan = plan_of(
        stack("management/Organization", "111111111111", setup, phase=0),
        stack("shared-services/NetworkHub", SHARED, share, phase=1),
    )
    assert rehearse_plan(plan) == []


def test_a_resource_aws_creates_on_its_own_collides() -> None:
    designate = {
        "Admin": {
            "Type": "AWS::SecurityHub::DelegatedAdmin",
            "Properties": {"AdminAccountId": SECURITY},
        }
    }
    hub = {"Hub": {"Type": "AWS::SecurityHub::Hub", "Properties": {}}}
    plan = plan_of(
        stack("management/Organization", "111111111111", designate, phase=0),
        stack("security/Audit", SECURITY, hub, phase=1),
    )
    [problem] = rehearse_plan(plan)
    assert problem.stack == "security/Audit"
    assert problem.need == "Hub (AWS::SecurityHub::Hub)"
    assert "creates one, so creating it fails with 'already exists'" in problem.producer
    assert "securityhub/latest/userguide/designate-orgs-admin-account" in problem.producer


def test_a_custom_resource_must_wait_for_its_policy() -> None:
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}]}},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
        },
        "Setup": {
            "Type": "Custom::OrganizationSetup",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Function", "Arn"]}},
        },
    }
    plan = plan_of(stack("management/Organization", "111111111111", resources, phase=0))
    assert [str(p) for p in rehearse_plan(plan)] == [
        "management/Organization: Setup (custom resource): can run before Policy, the policy "
        "its function needs: add a dependency"
    ]
    fixed = copy.deepcopy(resources)
    fixed["Setup"]["DependsOn"] = ["Policy"]
    plan = plan_of(stack("management/Organization", "111111111111", fixed, phase=0))
    assert rehearse_plan(plan) == []


def test_a_service_linked_role_cloudformation_does_not_create_is_needed() -> None:
    domain = {
        "Search": {
            "Type": "AWS::OpenSearchService::Domain",
            "Properties": {"VPCOptions": {"SubnetIds": ["subnet-1"]}},
        }
    }
    [problem] = rehearse_plan(plan_of(stack("prod/Data", DEV, domain, phase=0)))
    assert problem.need.startswith(f"service-linked-role {DEV}/opensearchservice.amazonaws.com")
    role = {
        "OpenSearchRole": {
            "Type": "AWS::IAM::ServiceLinkedRole",
            "Properties": {"AWSServiceName": "opensearchservice.amazonaws.com"},
        }
    }
    plan = plan_of(
        stack("dev/Network", DEV, role, phase=0), stack("prod/Data", DEV, domain, phase=1)
    )
    assert rehearse_plan(plan) == []


def test_a_stack_output_read_across_accounts_needs_the_reader_role_first() -> None:
    hub = stack(
        "shared-services/NetworkHub",
        SHARED,
        {},
        phase=1,
        Outputs={"TransitGatewayId": {"Value": "tgw-1"}},
    )
    reader = {
        "Reader": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": READER},
        }
    }
    attachment = {
        "Attachment": {
            "Type": "AWS::EC2::TransitGatewayAttachment",
            "Properties": {
                "TransitGatewayId": {
                    "Fn::GetStackOutput": {
                        "StackName": "shared-services-NetworkHub",
                        "Region": "eu-west-1",
                        "OutputName": "TransitGatewayId",
                        "RoleArn": f"arn:aws:iam::{SHARED}:role/{READER}",
                    }
                }
            },
        }
    }
    hub.template["Resources"] = {**reader, **ACCEPTOR}
    assert rehearse_plan(plan_of(hub, stack("dev/Network", DEV, attachment, phase=2))) == []
    problems = rehearse_plan(plan_of(hub, stack("dev/Network", DEV, attachment, phase=1)))
    assert {p.what for p in problems} == {
        "output shared-services-NetworkHub/eu-west-1/TransitGatewayId",
        f"role {SHARED}/{READER}",
        ACCEPTANCE,
    }


FUNCTION = {"Fn::GetAtt": ["SegmentsFunction", "Arn"]}
ACCEPTOR = {
    "Gateway": {
        "Type": "AWS::EC2::TransitGateway",
        "Properties": {"AutoAcceptSharedAttachments": "disable"},
    },
    "Segments": {"Type": "Custom::TransitSegments", "Properties": {"ServiceToken": FUNCTION}},
    "Reconcile": {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Targets": [{"Arn": FUNCTION, "Id": "Target0"}],
        },
    },
}
ACCEPTANCE = "acceptance AWS::EC2::TransitGatewayAttachment/shared-services-NetworkHub/eu-west-1"


@pytest.mark.parametrize(
    ("hub_resources", "accepted"),
    [
        (ACCEPTOR, True),
        ({"Gateway": {"Type": "AWS::EC2::TransitGateway",
                      "Properties": {"AutoAcceptSharedAttachments": "enable"}}}, True),
        ({k: v for k, v in ACCEPTOR.items() if k != "Reconcile"}, False),  # only when deployed
        ({**ACCEPTOR, "Reconcile": {**ACCEPTOR["Reconcile"], "Properties": {
            **ACCEPTOR["Reconcile"]["Properties"], "State": "DISABLED"}}}, False),
        ({k: v for k, v in ACCEPTOR.items() if k != "Segments"}, False),  # nothing accepts
    ],
)  # fmt: skip
def test_a_spokes_attachment_needs_a_hub_that_accepts_it_after_deploying(
    hub_resources, accepted
) -> None:
    """A spoke's AWS::EC2::TransitGatewayAttachment completes only once `available`: on a
    gateway that does not accept on its own, something in the hub must accept it, and run
    after the hub's deployment (a schedule), since the spoke asks after the hub deploys."""
    attachment = {
        "Attachment": {
            "Type": "AWS::EC2::TransitGatewayAttachment",
            "Properties": {
                "TransitGatewayId": {
                    "Fn::GetStackOutput": {
                        "StackName": "shared-services-NetworkHub",
                        "Region": "eu-west-1",
                        "OutputName": "TransitGatewayId",
                    }
                }
            },
        }
    }
    hub = stack(
        "shared-services/NetworkHub",
        SHARED,
        hub_resources,
        phase=1,
        Outputs={"TransitGatewayId": {"Value": "tgw-1"}},
    )
    problems = rehearse_plan(plan_of(hub, stack("dev/Network", DEV, attachment, phase=2)))
    assert [p.what for p in problems] == ([] if accepted else [ACCEPTANCE])


def test_an_access_entry_for_a_platform_role_waits_for_it() -> None:
    """The hub's Argo CD role is the platform's: a spoke's access entry for it must deploy
    later. A person's role from config is a prerequisite that preflight checks."""
    hub = {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "exco-argocd-hub"}}}
    entry = {
        "Hub": {
            "Type": "AWS::EKS::AccessEntry",
            "Properties": {"PrincipalArn": f"arn:aws:iam::{SHARED}:role/exco-argocd-hub"},
        },
        "Person": {
            "Type": "AWS::EKS::AccessEntry",
            "Properties": {"PrincipalArn": f"arn:aws:iam::{DEV}:role/PlatformAdmin"},
        },
    }
    early = stack("shared-services/Cluster", SHARED, hub, phase=0)
    assert rehearse_plan(plan_of(early, stack("dev/Cluster", DEV, entry, phase=1))) == []
    late = stack("shared-services/Cluster", SHARED, hub, phase=2)
    [problem] = rehearse_plan(plan_of(late, stack("dev/Cluster", DEV, entry, phase=1)))
    assert problem.what == f"principal {SHARED}/exco-argocd-hub"


def test_by_hand_phases_sit_where_they_are_declared() -> None:
    stacks = {
        "management/Organization": stack("management/Organization", "111111111111", {}, phase=-1),
        "sandbox/Baseline": stack("sandbox/Baseline", "777777777777", {}, phase=-1),
    }
    plan = plan_rollout(
        stacks,
        roles={"management": "management", "sandbox": "sandbox"},
        by_hand=(ByHand(roles=("management",), when="before-pipeline"), *BY_HAND),
    )
    assert plan.phases == ["by hand (before-pipeline)", "by hand (after-pipeline)"]
    assert stacks["management/Organization"].before(stacks["sandbox/Baseline"])


@pytest.fixture(scope="module")
def sample_plan(organisation, sample_config) -> DeploymentPlan:
    from tools.rehearsal.plan import read_assembly

    roles = {name: account.role for name, account in sample_config.accounts.items()}
    return plan_rollout(read_assembly(organisation.outdir), roles=roles)


def test_every_stack_of_the_sample_is_deployed_somewhere(sample_plan) -> None:
    assert [s.path for s in sample_plan.stacks.values() if s.phase < 0] == []


def test_a_certificate_below_a_zone_the_rollout_creates_waits_for_the_registrar() -> None:
    parent = {"Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "example.com."}}}
    certificate = {
        "Certificate": {
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {"DomainName": "dev.example.com", "ValidationMethod": "DNS"},
        }
    }
    dns = stack("shared-services/Dns", SHARED, parent, phase=0)
    edge = stack("dev/EdgeGlobal", DEV, certificate, phase=1, start=2, end=3)
    [problem] = rehearse_plan(plan_of(dns, edge))
    assert problem.stack == "dev/EdgeGlobal"
    assert problem.need.startswith("the registrar delegates the zone to its Route 53 name servers")
    assert problem.producer == "nothing produces it and no prerequisite covers it"
    check = stack(
        "Pipeline/dev/DnsDelegation",
        SHARED,
        {},
        phase=1,
        start=1,
        end=1,
        provides=frozenset({("registrar-delegation", "example.com")}),
    )
    assert rehearse_plan(plan_of(dns, check, edge)) == []


def test_the_first_rollout_of_the_sample_holds(sample_plan) -> None:
    assert [str(p) for p in rehearse_plan(sample_plan)] == []


def copied(plan: DeploymentPlan) -> DeploymentPlan:
    return copy.deepcopy(plan)


def resources_of(plan: DeploymentPlan, path: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in plan.stacks[path].resources.items() if r["Type"] == kind}


def needs_named(plan: DeploymentPlan) -> set[tuple[str, str]]:
    return {(p.stack, p.what) for p in rehearse_plan(plan)}


def test_it_catches_config_delivery_before_the_log_archive(sample_plan) -> None:
    """Revert the order fix: the management account's baseline in the pipeline's first
    wave, beside the log archive, as it was."""
    plan = copied(sample_plan)
    archive, baseline = plan.stacks["security/LogArchive"], plan.stacks["management/Baseline"]
    baseline.phase, baseline.start, baseline.end = archive.phase, archive.start, archive.end
    problems = [p for p in rehearse_plan(plan) if p.stack == "management/Baseline"]
    assert len(problems) == 1
    # Config delivers to the Config bucket beside the archive, in the same stack.
    assert problems[0].need.startswith(
        "bucket exco-security-config-delivery-222222222222-eu-west-1"
    )
    assert "security/LogArchive" in problems[0].producer


def test_it_catches_ram_sharing_never_enabled(sample_plan) -> None:
    plan = copied(sample_plan)
    (setup,) = resources_of(plan, "management/Organization", "Custom::OrganizationSetup").values()
    del setup["Properties"]["ResourceSharing"]
    assert needs_named(plan) == {
        (
            "shared-services/NetworkHub",
            "resource sharing with the organisation (ram:EnableSharingWithAwsOrganization, "
            "from the management account)",
        )
    }


def test_it_catches_a_hub_the_designation_already_made(sample_plan) -> None:
    plan = copied(sample_plan)
    plan.stacks["security/Audit"].resources["Hub"] = {
        "Type": "AWS::SecurityHub::Hub",
        "Properties": {},
    }
    assert needs_named(plan) == {("security/Audit", "Hub")}


def test_it_catches_the_setup_running_before_its_policy(sample_plan) -> None:
    plan = copied(sample_plan)
    (setup,) = resources_of(plan, "management/Organization", "Custom::OrganizationSetup").values()
    setup.pop("DependsOn")
    [problem] = rehearse_plan(plan)
    assert problem.stack == "management/Organization"
    assert problem.producer.startswith("can run before GuardrailsFunctionPermissions")


def test_it_catches_a_missing_service_linked_role(sample_plan) -> None:
    plan = copied(sample_plan)
    for path in ("staging/Data", "prod/Data"):
        for logical_id in list(resources_of(plan, path, "AWS::IAM::ServiceLinkedRole")):
            del plan.stacks[path].resources[logical_id]
    assert needs_named(plan) == {
        ("staging/Data", "service-linked-role 555555555555/opensearchservice.amazonaws.com"),
        ("prod/Data", "service-linked-role 666666666666/opensearchservice.amazonaws.com"),
    }


def test_it_catches_certificates_without_the_registrar_check(sample_plan) -> None:
    plan = copied(sample_plan)
    del plan.stacks["Pipeline/dev/DnsDelegation"]
    assert {stack for stack, _ in needs_named(plan)} == {
        "dev/EdgeGlobal",
        "dev/Edge",
        "staging/EdgeGlobal",
        "staging/Edge",
        "prod/EdgeGlobal",
        "prod/Edge",
        "sandbox/EdgeGlobal",  # by hand after the pipeline: after the check, when there is one
        "sandbox/Edge",
    }


def test_it_catches_a_spoke_deployed_before_the_hub(sample_plan) -> None:
    """dev's attachment reads the Transit Gateway id from shared-services' NetworkHub."""
    plan = copied(sample_plan)
    dev_phase = plan.stacks["dev/Network"].phase
    for stack in plan.stacks.values():
        if stack.stage == "shared-services":
            stack.phase = dev_phase + 1
    assert ("dev/Network", "role 333333333333/exco-shared-services-network-hub-reader") in (
        needs_named(plan)
    )


def test_it_catches_a_hub_that_accepts_attachments_only_when_it_deploys(sample_plan) -> None:
    """Without the schedule, the spokes' attachments wait for an acceptance that comes only
    with the hub's next deployment: their stacks time out."""
    plan = copied(sample_plan)
    for logical_id in resources_of(plan, "shared-services/NetworkHub", "AWS::Events::Rule"):
        del plan.stacks["shared-services/NetworkHub"].resources[logical_id]
    acceptance = (
        "acceptance AWS::EC2::TransitGatewayAttachment/shared-services-NetworkHub/eu-west-1"
    )
    assert needs_named(plan) == {
        ("dev/Network", acceptance),
        ("staging/Network", acceptance),
        ("prod/Network", acceptance),
    }


def test_it_catches_a_domain_created_before_its_service_linked_role(sample_plan) -> None:
    plan = copied(sample_plan)
    (domain,) = resources_of(plan, "prod/Data", "AWS::OpenSearchService::Domain").values()
    (role,) = resources_of(plan, "prod/Data", "AWS::IAM::ServiceLinkedRole")
    domain["DependsOn"] = [d for d in domain["DependsOn"] if d != role]
    [problem] = rehearse_plan(plan)
    assert (problem.stack, problem.what) == (
        "prod/Data",
        "service-linked-role 666666666666/opensearchservice.amazonaws.com",
    )
    assert problem.producer.startswith("made in the same stack, but nothing makes")


def test_it_catches_cross_account_backup_never_enabled(sample_plan) -> None:
    """Without the management account's setup turning it on, the security account's copy
    vault and every data account's copying plan would wait for a person's commands."""
    plan = copied(sample_plan)
    (setup,) = resources_of(plan, "management/Organization", "Custom::OrganizationSetup").values()
    del setup["Properties"]["CrossAccountBackup"]
    setting = (
        "cross-account backup enabled for the organisation (trusted access for "
        "backup.amazonaws.com, then backup:UpdateGlobalSettings "
        "isCrossAccountBackupEnabled=true, both from the management account): without it "
        "every copy job into the security account's vault fails"
    )
    assert {stack for stack, what in needs_named(plan) if what == setting} == {
        "security/BackupCopies",
        "dev/Data",
        "staging/Data",
        "prod/Data",
    }
