"""What the pipeline promotes, in which order, and where it stops: read from the synthesized
pipeline template of the sample organisation."""

from __future__ import annotations

import json

import pytest

import app as platform_app


@pytest.fixture(scope="module")
def pipeline_stack(organisation):
    return organisation.top_level["Pipeline"]


@pytest.fixture(scope="module")
def stages(pipeline_stack) -> dict[str, list[dict]]:
    """CodePipeline stage name -> its actions, as synthesized."""
    (pipeline,) = pipeline_stack.of_type("AWS::CodePipeline::Pipeline").values()
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}


def buildspec(pipeline_stack, action: dict) -> dict:
    project = pipeline_stack.resources[action["Configuration"]["ProjectName"]["Ref"]]
    return json.loads(project["Properties"]["Source"]["BuildSpec"])


def by_name(actions: list[dict]) -> dict[str, dict]:
    return {action["Name"]: action for action in actions}


def test_pipeline_lives_in_shared_services(pipeline_stack, sample_config):
    shared = sample_config.accounts["shared-services"]
    assert (pipeline_stack.account, pipeline_stack.region) == (shared.id, shared.region)
    assert pipeline_stack.termination_protection


def test_promotion_order(stages, sample_config):
    # CDK Pipelines names a wave of one stage after that stage (the account).
    waves = [
        w.accounts[0] if len(w.accounts) == 1 else w.name for w in sample_config.pipeline.waves
    ]
    assert waves == ["security", "shared-services", "dev", "staging", "prod"]
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", *waves]


def test_source_is_the_configured_branch_through_the_connection(stages, sample_config):
    (source,) = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": sample_config.pipeline.connection_arn,
        "FullRepositoryId": "example-corp/aws-platform",
        "BranchName": "main",
    }


def test_synth_runs_the_readme_commands_tests_first(pipeline_stack, stages):
    (synth,) = stages["Build"]
    spec = buildspec(pipeline_stack, synth)
    assert spec["phases"]["build"]["commands"] == ["make test", "make synth"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    project = pipeline_stack.resources[synth["Configuration"]["ProjectName"]["Ref"]]
    variables = project["Properties"]["Environment"]["EnvironmentVariables"]
    assert {"Name": "CI", "Type": "PLAINTEXT", "Value": "true"} in variables


def test_pipeline_mutates_itself_with_the_pinned_cli(pipeline_stack, stages):
    (mutate,) = stages["UpdatePipeline"]
    spec = buildspec(pipeline_stack, mutate)
    assert (
        f"npm install -g aws-cdk@{platform_app.cdk_cli_version()}"
        in spec["phases"]["install"]["commands"]
    )
    assert any("deploy Pipeline" in c for c in spec["phases"]["build"]["commands"])


def test_the_log_archive_deploys_before_anything_delivers_to_it(stages):
    """Every account's Config delivery channel writes to the security account's archive, and
    CloudFormation refuses a channel whose bucket does not exist: security deploys first, in
    a wave of its own (the rehearsal checks the whole order)."""
    waves = list(stages)
    first = waves.index("security")
    stacks = [
        a["Configuration"]["StackName"]
        for a in stages["security"]
        if "Configuration" in a and "StackName" in a["Configuration"]
    ]
    assert stacks and all(name.startswith("security-") for name in stacks)
    for wave in waves[first + 1 :]:
        deployed = [a["Configuration"].get("StackName", "") for a in stages[wave]]
        assert not [name for name in deployed if name.startswith("security-")]
    for wave in waves[:first]:
        assert "CloudFormation" not in json.dumps(stages[wave])


def test_the_pipeline_never_deploys_the_management_account(stages, sample_config):
    """A merged commit or a foothold in shared-services cannot change the organisation: the
    management account is deployed by hand (docs/security.md)."""
    management = sample_config.accounts["management"].id
    assert management not in json.dumps(stages)
    assert "management-" not in json.dumps(stages)


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_the_edge_deploys_after_its_us_east_1_half(stages, stage):
    """The distribution reads the certificate and web ACL from EdgeGlobal's outputs when it
    deploys, so EdgeGlobal must be deployed first, in us-east-1."""
    actions = by_name(stages[stage])
    edge_global = actions["EdgeGlobal.Deploy"]
    assert edge_global["Region"] == "us-east-1"
    assert actions["Edge.Prepare"].get("Region", "eu-west-1") == "eu-west-1"
    assert edge_global["RunOrder"] < actions["Edge.Prepare"]["RunOrder"]


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_the_edge_alarms_deploy_after_the_distribution(stages, stage):
    """The distribution's alarms read its id from Edge's outputs when they deploy, in
    us-east-1 (where CloudFront publishes metrics), so Edge must be deployed first."""
    actions = by_name(stages[stage])
    alarms = actions["EdgeAlarms.Deploy"]
    assert alarms["Region"] == "us-east-1"
    assert actions["Edge.Deploy"]["RunOrder"] < actions["EdgeAlarms.Prepare"]["RunOrder"]


def test_every_stack_deploys_with_its_accounts_bootstrap_role(stages, sample_config):
    for wave in sample_config.pipeline.waves:
        for action in stages[wave.accounts[0] if len(wave.accounts) == 1 else wave.name]:
            if action["ActionTypeId"]["Provider"] != "CloudFormation":
                continue
            account = next(
                n for n in wave.accounts if action["Configuration"]["StackName"].startswith(f"{n}-")
            )
            role = "".join(p for p in action["RoleArn"]["Fn::Join"][1] if isinstance(p, str))
            assert f":iam::{sample_config.accounts[account].id}:role/cdk-" in role


MANUAL = {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}


def approvals(actions: list[dict]) -> list[dict]:
    return [a for a in actions if a["ActionTypeId"] == MANUAL]


def test_prod_asks_one_person_once_after_the_review_before_any_stack_changes(
    pipeline_stack, stages
):
    actions = by_name(stages["prod"])
    (approve,) = approvals(stages["prod"])
    review = actions["Review-prod"]
    assert approve["Name"] == "Approve-prod"
    changes = [a for a in stages["prod"] if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    # prepare and execute of every prod stack: three baselines, Network, Cluster, Data,
    # EdgeGlobal, Edge, EdgeAlarms, Teams, Access, Operations and Ci
    assert len(changes) == 2 * 13
    # the review first, then the approval, then the first change set is even created
    assert review["RunOrder"] < approve["RunOrder"] < min(a["RunOrder"] for a in changes)
    assert "Read the Review-prod action's log" in approve["Configuration"]["CustomData"]
    (command,) = buildspec(pipeline_stack, review)["phases"]["build"]["commands"]
    assert command == (
        "python -m runtime.review --assembly cdk.out "
        "--target prod=arn:aws:iam::666666666666:role/exco-prod-review"
    )  # never approves by itself


def test_security_and_shared_services_waves_stop_only_when_iam_broadens(pipeline_stack, stages):
    """Review and approval start together; the review approves by itself when nothing
    broadens, so a person decides only the changes that widen access."""
    for stage, wave, account in (
        ("security", "foundation", "222222222222:role/exco-security-review"),
        ("shared-services", "platform", "333333333333:role/exco-shared-services-review"),
    ):
        actions = by_name(stages[stage])
        (approve,) = approvals(stages[stage])
        review = actions[f"Review-{wave}"]
        assert approve["Name"] == f"Approve-{wave}"
        assert review["RunOrder"] == approve["RunOrder"] == 1
        (command,) = buildspec(pipeline_stack, review)["phases"]["build"]["commands"]
        assert command == (
            f"python -m runtime.review --assembly cdk.out --target {stage}=arn:aws:iam::"
            f"{account} --approve-unless-broadening Approve-{wave}"
        )


def test_the_review_may_read_through_review_roles_and_approve_only_its_own_wave(pipeline_stack):
    policies = {
        props["Roles"][0]["Ref"]: props["PolicyDocument"]["Statement"]
        for props in (
            p["Properties"] for p in pipeline_stack.of_type("AWS::IAM::ManagedPolicy").values()
        )
        if props.get("Description", "").startswith("Read the foundation accounts")
    }
    ((role, statements),) = policies.items()
    assert pipeline_stack.resources[role]["Properties"]["RoleName"] == (
        "exco-shared-services-pipeline-review-foundation"
    )
    assume, approve = statements
    assert assume["Resource"] == "arn:aws:iam::222222222222:role/exco-security-review"
    assert approve["Action"] == ["codepipeline:GetPipelineState", "codepipeline:PutApprovalResult"]
    paths = [r["Fn::Join"][1][-1] for r in approve["Resource"]]
    assert sorted(paths, key=str) == ["/security/Approve-foundation", {"Ref": paths[1]["Ref"]}] or (
        "/security/Approve-foundation" in paths and len(paths) == 2
    )


def test_dev_and_staging_deploy_without_a_person(stages):
    for stage in ("dev", "staging"):
        assert approvals(stages[stage]) == []


@pytest.mark.parametrize(
    ("wave", "account_id", "soak"),
    [("staging", "555555555555", 10), ("prod", "666666666666", 15)],
)
def test_health_gate_runs_after_the_wave_with_the_read_only_role(
    pipeline_stack, stages, wave, account_id, soak
):
    """After the wave, the gate soaks for the account's `monitoring.soak_minutes` (prod's
    config says 15, staging keeps the default 10), reading the alarms of every region of the
    account, with time to do it."""
    actions = stages[wave]
    gate = by_name(actions)[f"HealthCheck-{wave}"]
    assert gate["RunOrder"] > max(a["RunOrder"] for a in actions if a is not gate)
    commands = buildspec(pipeline_stack, gate)["phases"]["build"]["commands"]
    assert commands == [
        "python -m runtime.health_check "
        f"--role-arn arn:aws:iam::{account_id}:role/exco-{wave}-health-check --region eu-west-1 "
        f"--soak-minutes {soak} --alarm-regions eu-central-1 us-east-1"
    ]
    project = pipeline_stack.resources[gate["Configuration"]["ProjectName"]["Ref"]]
    assert project["Properties"]["TimeoutInMinutes"] == soak + 30


def test_no_health_gate_before_staging(stages):
    for wave in ("security", "shared-services", "dev"):
        assert not [a for a in stages[wave] if a["Name"].startswith("HealthCheck")]


def test_sandbox_is_never_deployed_by_the_pipeline(pipeline_stack, stages, organisation):
    everything = json.dumps(stages)
    assert "sandbox" not in everything and "777777777777" not in everything
    assert "Network" in organisation.stacks["sandbox"]  # still synthesized, for `cdk deploy`


def test_health_gate_role_may_only_assume_the_environments_read_roles(pipeline_stack):
    (policy,) = [
        p
        for p in pipeline_stack.of_type("AWS::IAM::ManagedPolicy").values()
        if "HealthCheck" in json.dumps(p["Properties"]["Roles"])
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == [
        "arn:aws:iam::555555555555:role/exco-staging-health-check",
        "arn:aws:iam::666666666666:role/exco-prod-health-check",
    ]


def test_environment_read_role_trusts_only_the_pipeline_gate(organisation):
    stack = organisation.stacks["staging"]["Operations"]
    (role,) = (r for r in stack.of_type("AWS::IAM::Role").values() if "RoleName" in r["Properties"])
    assert role["Properties"]["RoleName"] == "exco-staging-health-check"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": "arn:aws:iam::333333333333:role/"
            "exco-shared-services-pipeline-health-check"
        }
    }
    (policy,) = stack.of_type("AWS::IAM::ManagedPolicy").values()
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "eks:DescribeCluster",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "eks:ListClusters",
        "cloudwatch:DescribeAlarms",
    }


def test_artifacts_are_encrypted_versioned_and_logged_in_every_region(organisation, pipeline_stack):
    (pipeline,) = pipeline_stack.of_type("AWS::CodePipeline::Pipeline").values()
    stores = {s["Region"]: s["ArtifactStore"] for s in pipeline["Properties"]["ArtifactStores"]}
    # Every account's regional baselines (and the edge's certificates and web ACLs in
    # us-east-1) deploy to the other allowed regions, so the pipeline needs an artifact bucket
    # in each, in a stack of its own (CDK's generated one is not compliant).
    assert set(stores) == {"eu-west-1", "eu-central-1", "us-east-1"}
    home = pipeline_stack.resources[stores["eu-west-1"]["Location"]["Ref"]]["Properties"]
    support = organisation.top_level["Pipeline-us-east-1"]
    assert (support.account, support.region) == (pipeline_stack.account, "us-east-1")
    assert support.termination_protection
    (replica,) = (
        b["Properties"]
        for b in support.of_type("AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName") == stores["us-east-1"]["Location"]
    )
    for store in stores.values():
        assert store["EncryptionKey"]["Type"] == "KMS"
    for bucket in (home, replica):
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert "LoggingConfiguration" in bucket
    (key,) = support.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert {"Key": "platform.io/pipeline-artifacts", "Value": "true"} in key["Properties"]["Tags"]


def test_the_pipeline_role_may_use_only_artifact_keys(pipeline_stack):
    """CDK grants the other region's key as "*"; a deny narrows it to keys tagged as ours."""
    (role_id,) = (
        k
        for k, v in pipeline_stack.of_type("AWS::IAM::Role").items()
        if "codepipeline.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])
    )
    statements = [
        st
        for policy in pipeline_stack.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (deny,) = (st for st in statements if st["Effect"] == "Deny")
    assert deny["Action"] == "kms:*" and deny["Resource"] == "*"
    assert deny["Condition"] == {
        "StringNotEquals": {"aws:ResourceTag/platform.io/pipeline-artifacts": "true"}
    }


def test_failures_and_approvals_are_notified(pipeline_stack):
    (rule,) = pipeline_stack.of_type("AWS::CodeStarNotifications::NotificationRule").values()
    assert set(rule["Properties"]["EventTypeIds"]) == {
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-action-execution-failed",
        "codepipeline-pipeline-manual-approval-needed",
        "codepipeline-pipeline-pipeline-execution-succeeded",
    }
    (topic_id,) = pipeline_stack.of_type("AWS::SNS::Topic")
    assert rule["Properties"]["Targets"] == [
        {"TargetType": "SNS", "TargetAddress": {"Ref": topic_id}}
    ]
    (subscription,) = pipeline_stack.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "platform-team@example.com"


def protection_steps(pipeline_stack, stages) -> dict[str, list[str]]:
    """Stack name -> the commands of the pipeline step that protects it."""
    protected: dict[str, list[str]] = {}
    for actions in stages.values():
        for action in actions:
            if "Protect-" not in action["Name"]:
                continue
            for command in buildspec(pipeline_stack, action)["phases"]["build"]["commands"]:
                names = command.split("--stack ")[1:]
                for name in names:
                    protected[name.strip()] = command
    return protected


def test_the_pipeline_protects_what_it_deploys_outside_dev(pipeline_stack, stages, organisation):
    """CDK Pipelines drops `termination_protection` (aws-cdk#17871): a step after each stage
    turns it on for every stack that asks for it, through that account's deploy role."""
    deployed = json.dumps(stages)
    wanted = {
        stack.template_file.stem: stack
        for stage, stacks in organisation.stacks.items()
        for stack in stacks.values()
        if stack.termination_protection and f'"{stage}-{stack.id}"' in deployed
    }
    protected = protection_steps(pipeline_stack, stages)
    expected = {f"{s.stage}-{s.id}" for s in wanted.values()}
    assert expected and set(protected) == expected, set(protected) ^ expected
    assert not [name for name in protected if name.startswith(("dev-", "sandbox-"))]
    prod = protected["prod-Data"]
    assert prod.startswith(
        "python -m runtime.protect_stacks --role-arn "
        "arn:aws:iam::666666666666:role/cdk-hnb659fds-deploy-role-666666666666-eu-west-1 "
        "--region eu-west-1 "
    )
    assert protected["prod-EdgeGlobal"].split(" --region ")[1].startswith("us-east-1 ")


def test_the_protection_step_may_assume_only_the_deploy_roles_it_uses(pipeline_stack, stages):
    for action in by_name(stages["prod"]).values():
        if not action["Name"].startswith("Protect-"):
            continue
        project = pipeline_stack.resources[action["Configuration"]["ProjectName"]["Ref"]]
        role = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
        statements = [
            statement
            for policy in pipeline_stack.of_type("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Action"] == "sts:AssumeRole"
        ]
        assert [s["Resource"] for s in statements] == [
            [
                "arn:aws:iam::666666666666:role/cdk-hnb659fds-deploy-role-666666666666-eu-central-1",
                "arn:aws:iam::666666666666:role/cdk-hnb659fds-deploy-role-666666666666-eu-west-1",
                "arn:aws:iam::666666666666:role/cdk-hnb659fds-deploy-role-666666666666-us-east-1",
            ]
        ]


def test_the_first_wave_with_certificates_waits_for_the_registrar(pipeline_stack, stages):
    """dev is the first wave whose certificates validate below example.com: the check runs
    before any of its stacks, and only there."""
    checks = {
        wave: action
        for wave, actions in stages.items()
        for action in actions
        if action["Name"] == "DnsDelegation"
    }
    assert list(checks) == ["dev"]
    check = checks["dev"]
    deploys = [a for a in stages["dev"] if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    assert check["RunOrder"] < min(a["RunOrder"] for a in deploys)
    commands = buildspec(pipeline_stack, check)["phases"]["build"]["commands"]
    assert commands == ["python -m runtime.dns_delegation --zone example.com"]


def test_asset_publishing_installs_the_pinned_cdk_assets(pipeline_stack, stages):
    """The publishing steps run with roles that write into every account's asset buckets:
    they install the cdk-assets version package.json pins, never `@latest`."""
    pinned = platform_app.cdk_assets_version()
    installs = [
        command
        for action in stages["Assets"]
        for command in buildspec(pipeline_stack, action)["phases"]["install"]["commands"]
    ]
    assert installs and set(installs) == {f"npm install -g cdk-assets@{pinned}"}
    assert "@latest" not in json.dumps(pipeline_stack.template)


def test_the_asset_role_may_start_only_its_own_asset_builds(pipeline_stack):
    """CDK Pipelines grants it StartBuild on every project; with a buildspec override that
    would run commands as another project's role (a protection step's assumes deploy roles)."""
    (policy,) = [
        p
        for k, p in pipeline_stack.of_type("AWS::IAM::Policy").items()
        if k.startswith("PipelineAssetsFileRoleDefaultPolicy")
    ]
    (builds,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "codebuild:StartBuild" in s["Action"]
    ]
    projects = {r["Fn::GetAtt"][0] for r in builds["Resource"]}
    assert projects and all(p.startswith("PipelineAssetsFileAsset") for p in projects)
    assert all(pipeline_stack.resources[p]["Type"] == "AWS::CodeBuild::Project" for p in projects)


def test_the_pipeline_topic_posts_to_the_pipeline_chat_channel(pipeline_stack):
    """Failures and approvals waiting reach the same chat as the alarms (the sample's
    `notifications.pipeline` defaults to the default channel), read-only."""
    (chat,) = pipeline_stack.of_type("AWS::Chatbot::SlackChannelConfiguration").values()
    (topic_id,) = pipeline_stack.of_type("AWS::SNS::Topic")
    assert chat["Properties"]["SnsTopicArns"] == [{"Ref": topic_id}]
    assert chat["Properties"]["SlackChannelId"] == "C00000001"
    assert "ReadOnlyAccess" in json.dumps(chat["Properties"]["GuardrailPolicies"])
