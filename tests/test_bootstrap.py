"""`make bootstrap`: the platform's bootstrap template per account and region (least-privilege
execution, the permissions boundary, trust pinned to the pipeline's roles) and the commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import parse_config
from config.deploy_path import BOOTSTRAP_ROLES, trusted_principals
from facts.cdk import PERMISSIONS_BOUNDARY_NAME
from tests import iam_check
from tests.conftest import ROOT, SAMPLE_CONFIG
from tests.helpers import by_sid, of_type, props
from tools import execution_policy
from tools.bootstrap import (
    CDK_TEMPLATE,
    ROLE_RESOURCES,
    bootstrap_commands,
    bootstrap_template,
    main,
    write_templates,
)

SS = "333333333333"
PROD = "666666666666"


@pytest.fixture(scope="module")
def cdk_template():
    return yaml.safe_load((ROOT / CDK_TEMPLATE).read_text())


def template_for(config, cdk_template, name, region="eu-west-1"):
    return bootstrap_template(
        config, name, region, cdk_template, execution_policy.load(ROOT, name, region)
    )


def trust(template, kind):
    return props(template["Resources"][ROLE_RESOURCES[kind]])["AssumeRolePolicyDocument"]


def test_one_command_per_account_and_region_shared_services_first(sample_config):
    commands = bootstrap_commands(sample_config)
    targets = [c[3] for c in commands]
    assert targets[:3] == [
        f"aws://{SS}/eu-west-1",  # its own region first: it makes the permissions boundary
        f"aws://{SS}/eu-central-1",
        f"aws://{SS}/us-east-1",
    ]
    assert len(targets) == 7 * 3  # every account in every allowed region
    assert sorted(targets) == sorted(
        f"aws://{a.id}/{region}"
        for name, a in sample_config.accounts.items()
        for region in sample_config.deployment_regions(name)
    )
    for command in commands:
        account, region = command[3].removeprefix("aws://").split("/")
        name = next(n for n, a in sample_config.accounts.items() if a.id == account)
        assert command[command.index("--template") + 1] == f"build/bootstrap/{name}-{region}.yaml"
        # the account's own region (which makes the permissions boundary) comes first
        assert targets.index(f"aws://{account}/{sample_config.accounts[name].region}") <= (
            targets.index(command[3])
        )
        # no account root is trusted and no execution policy is chosen on the command line
        assert "--trust" not in command
        assert "--cloudformation-execution-policies" not in command


def test_prod_trusts_exactly_the_pipelines_roles_and_the_bootstrap_path(
    sample_config, cdk_template
):
    template = template_for(sample_config, cdk_template, "prod")
    expected = {
        "deploy": [
            f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole",
            f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline",
            f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline-protect-prod",
        ],
        "file-publishing": [
            f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole",
            f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline-file-assets",
        ],
        "image-publishing": [
            f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole",
            f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline-image-assets",
        ],
        "lookup": [f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole"],
    }
    for kind, principals in expected.items():
        (statement,) = trust(template, kind)["Statement"]
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted(principals)}}
        assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]


def test_every_trust_statement_of_a_pipelined_account_is_pinned(sample_config, cdk_template):
    """No statement lets a whole account (the pipeline's or the account's own) assume a
    bootstrap role: the CDK default this replaces did both."""
    for name in sample_config.pipelined_accounts():
        for region in sample_config.deployment_regions(name):
            template = template_for(sample_config, cdk_template, name, region)
            for kind in BOOTSTRAP_ROLES:
                for statement in trust(template, kind)["Statement"]:
                    assert set(statement["Condition"]) == {"ArnEquals"}, (name, region, kind)


def test_the_pipeline_names_its_roles_as_the_bootstrap_trusts_them(organisation, sample_config):
    """The trust is only as good as the names: each pinned pipeline principal is a role the
    pipeline stack creates under exactly that name."""
    pipeline = organisation.top_level["Pipeline"]
    named = {
        f"arn:aws:iam::{SS}:role/{props(role)['RoleName']}"
        for role in pipeline.of_type("AWS::IAM::Role").values()
        if "RoleName" in props(role)
    }
    pinned = {
        arn
        for name in sample_config.pipelined_accounts()
        for kind in BOOTSTRAP_ROLES
        for arn in trusted_principals(sample_config, name, kind) or []
        if ":role/exco-shared-services-pipeline" in arn
    }
    assert pinned - {f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline-image-assets"} <= named
    assert f"arn:aws:iam::{SS}:role/exco-shared-services-pipeline" in pinned


def test_management_and_sandbox_keep_cdks_own_account_trust(sample_config, cdk_template):
    """People deploy them with their own roles (docs/security.md): the trust is CDK's, and the
    commands pass no `--trust`, so no other account is trusted there."""
    for name in ("management", "sandbox"):
        template = template_for(sample_config, cdk_template, name)
        for kind in BOOTSTRAP_ROLES:
            assert trust(template, kind) == trust(cdk_template, kind)


def test_execution_role_gets_the_generated_policies_and_the_boundary(sample_config, cdk_template):
    template = template_for(sample_config, cdk_template, "prod")
    resources = template["Resources"]
    execution = props(resources["CloudFormationExecutionRole"])
    generated = of_type(template, "AWS::IAM::ManagedPolicy")
    policy_refs = [ref["Ref"] for ref in execution["ManagedPolicyArns"]]
    assert policy_refs == [f"PlatformExecutionPolicy{i}" for i in range(1, len(policy_refs) + 1)]
    committed = execution_policy.load(ROOT, "prod", "eu-west-1")
    assert [props(generated[ref])["PolicyDocument"] for ref in policy_refs] == [
        p["document"] for p in committed["policies"]
    ]
    # CDK's fallback (AdministratorAccess when no policy is given) is gone from the role
    assert "AdministratorAccess" not in json.dumps(execution["ManagedPolicyArns"])
    assert execution["PermissionsBoundary"]["Fn::Sub"].endswith(
        f":policy/{PERMISSIONS_BOUNDARY_NAME}"
    )


def test_the_boundary_is_made_once_per_account_in_its_own_region(sample_config, cdk_template):
    home = template_for(sample_config, cdk_template, "prod", "eu-west-1")["Resources"]
    edge = template_for(sample_config, cdk_template, "prod", "us-east-1")["Resources"]
    assert "PlatformPermissionsBoundary" in home
    assert "PlatformPermissionsBoundary" not in edge  # IAM names are per account
    assert "CdkBoostrapPermissionsBoundaryPolicy" not in home


def test_the_boundary_denies_roles_without_it_and_the_deploy_path(sample_config, cdk_template):
    home = template_for(sample_config, cdk_template, "prod")["Resources"]
    boundary = props(home["PlatformPermissionsBoundary"])
    assert boundary["ManagedPolicyName"] == PERMISSIONS_BOUNDARY_NAME
    statements = by_sid(boundary["PolicyDocument"]["Statement"])
    without = statements["DenyRolesAndUsersWithoutThisBoundary"]
    assert without["Effect"] == "Deny"
    assert {"iam:CreateRole", "iam:PutRolePermissionsBoundary"} <= set(without["Action"])
    assert without["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"]["Fn::Sub"].endswith(
        f":policy/{PERMISSIONS_BOUNDARY_NAME}"
    )
    assert statements["DenyRemovingBoundaries"]["Effect"] == "Deny"
    deploy_path = statements["DenyChangingTheDeployPath"]
    assert {"iam:PassRole", "iam:Update*"} <= set(deploy_path["Action"])
    assert "sts:AssumeRole" not in deploy_path["Action"]  # the trust policies decide that
    assert {r["Fn::Sub"].rsplit("/", 1)[1] for r in deploy_path["Resource"]} == {
        "cdk-hnb659fds-*",
        "OrganizationAccountAccessRole",
    }


def test_the_generated_templates_are_valid_cloudformation(sample_config, tmp_path):
    """cfn-lint (the registry schemas) finds no error in the generated templates."""
    root = tmp_path
    (root / CDK_TEMPLATE).parent.mkdir(parents=True)
    (root / CDK_TEMPLATE).write_text((ROOT / CDK_TEMPLATE).read_text())
    (root / execution_policy.POLICY_DIR).parent.mkdir(parents=True)
    (root / execution_policy.POLICY_DIR).symlink_to(ROOT / execution_policy.POLICY_DIR)
    paths = write_templates(sample_config, root=root)
    assert len(paths) == len(bootstrap_commands(sample_config))
    checked = [str(paths[("prod", "eu-west-1")]), str(paths[("prod", "us-east-1")])]
    lint = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "parseable", *checked],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in lint.stdout.splitlines() if ":E" in line]
    assert errors == [], lint.stdout


def test_an_account_without_a_committed_policy_stops_the_bootstrap(sample_config, tmp_path):
    (tmp_path / CDK_TEMPLATE).parent.mkdir(parents=True)
    (tmp_path / CDK_TEMPLATE).write_text((ROOT / CDK_TEMPLATE).read_text())
    with pytest.raises(
        SystemExit,
        match="no execution policy for management in eu-west-1: run `make execution-policies`",
    ):
        write_templates(sample_config, root=tmp_path)


def test_dry_run_prints_and_runs_nothing(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    ran = []
    assert main(["--config", str(SAMPLE_CONFIG)], run=ran.append) == 0
    out = capsys.readouterr().out.splitlines()
    assert ran == []
    assert out[0] == (
        f"npx cdk bootstrap aws://{SS}/eu-west-1 --template "
        "build/bootstrap/shared-services-eu-west-1.yaml --profile shared-services "
        "--termination-protection"
    )
    assert out[-1] == (
        "# dry run. Then, once, deploy the pipeline by hand: "
        "npx cdk deploy Pipeline --profile shared-services"
    )
    assert Path(ROOT / "build/bootstrap/prod-eu-west-1.yaml").exists()


def test_execute_runs_each_command_and_stops_at_the_first_failure(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    ran = []

    def run(command):
        ran.append(command)
        return 0 if len(ran) < 3 else 7

    assert main(["--config", str(SAMPLE_CONFIG), "--execute"], run=run) == 7
    assert len(ran) == 3
    assert "stopped: the command above exited 7" in capsys.readouterr().err


def test_the_removed_execution_policy_setting_is_refused_with_the_way_forward(
    tmp_path, sample_raw, capsys
):
    raw = {
        **sample_raw,
        "pipeline": {
            **sample_raw["pipeline"],
            "cloudformation_execution_policies": ["arn:aws:iam::aws:policy/AdministratorAccess"],
        },
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["--config", str(path)], run=lambda c: 0) == 2
    err = capsys.readouterr().err
    assert "pipeline.cloudformation_execution_policies: no longer set here" in err
    assert "bootstrap/execution-policies/" in err


def test_without_a_pipeline_no_trust_is_pinned(sample_raw):
    config = parse_config({k: v for k, v in sample_raw.items() if k != "pipeline"})
    for name in config.accounts:
        for kind in BOOTSTRAP_ROLES:
            assert trusted_principals(config, name, kind) is None


def boundary_statements(sample_config, cdk_template, account: str = SS):
    """The boundary's statements with its Fn::Sub resolved for `account`."""
    home = template_for(sample_config, cdk_template, "shared-services")["Resources"]
    text = json.dumps(props(home["PlatformPermissionsBoundary"])["PolicyDocument"])
    text = text.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", account)
    document = json.loads(text)

    def flat(value):
        if isinstance(value, dict) and "Fn::Sub" in value:
            return value["Fn::Sub"]
        if isinstance(value, list):
            return [flat(v) for v in value]
        if isinstance(value, dict):
            return {k: flat(v) for k, v in value.items()}
        return value

    return flat(document)["Statement"]


def test_the_boundary_lets_the_pipelines_own_roles_use_the_deploy_path(sample_config, cdk_template):
    """The pipeline's roles carry the boundary and assume shared-services' own deploy and
    publishing roles (the platform wave, self-mutation, assets): the boundary must not deny
    it (CodePipeline checks at creation that its role may assume every action role)."""
    statements = boundary_statements(sample_config, cdk_template)
    role = f"arn:aws:iam::{SS}:role/cdk-hnb659fds-deploy-role-{SS}-eu-west-1"
    assert iam_check.decide(statements, "sts:AssumeRole", role, {})
    # ... while it still refuses a role without it and changes to the deploy path
    assert not iam_check.decide(
        statements,
        "iam:CreateRole",
        f"arn:aws:iam::{SS}:role/anything",
        {"iam:PermissionsBoundary": "arn:aws:iam::333333333333:policy/other"},
    )
    assert not iam_check.decide(statements, "iam:UpdateAssumeRolePolicy", role, {})
    assert not iam_check.decide(
        statements,
        "iam:AttachRolePolicy",
        f"arn:aws:iam::{SS}:role/anything",
        {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )


def test_the_variant_stops_a_plain_cdk_bootstrap_from_undoing_this_one(sample_config, cdk_template):
    template = template_for(sample_config, cdk_template, "prod")
    variant = template["Parameters"]["BootstrapVariant"]["Default"]
    assert variant != cdk_template["Parameters"]["BootstrapVariant"]["Default"]
    assert variant.startswith("Platform:")
