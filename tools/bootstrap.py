"""Bootstrap every account of the config for CDK, with the platform's own bootstrap template.

    python -m tools.bootstrap                 # dry run: write the templates, print the commands
    python -m tools.bootstrap --execute       # run them, stopping at the first failure

Each account is bootstrapped in every region it deploys to (`PlatformConfig.deployment_regions`),
its own region first, from a template this tool derives from the pinned CDK CLI's:

- CloudFormation's execution role gets the least-privilege policy committed for that account
  and region (`tools.execution_policy`, bootstrap/execution-policies/) instead of
  AdministratorAccess, and carries the permissions boundary;
- the permissions boundary (made in the account's own region): every role the platform's
  stacks create must carry it, so a deploy cannot mint a role more powerful than it, nor touch
  the deploy path's own roles;
- where the pipeline deploys, the deploy, publishing and lookup roles trust exactly the
  pipeline's roles and the bootstrap path (`aws:PrincipalArn`, `config.deploy_path`), not an
  account root.

Run it through the bootstrap path (`OrganizationAccountAccessRole` of each member account;
the management account's administrators for management). Account ids come from the config.
Credentials: one AWS CLI profile per account, named by `--profile-format` (default: the
account name).
"""

from __future__ import annotations

import argparse
import copy
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from config import ConfigError, PlatformConfig, load_config
from config.deploy_path import BootstrapRole, trusted_principals
from facts.cdk import BOOTSTRAP_ROLE_NAME, CDK_NAME_PREFIX, PERMISSIONS_BOUNDARY_NAME
from tools import execution_policy

DEFAULT_CONFIG = "config/platform.yaml"
EXIT_BAD_CONFIG = 2
CDK_TEMPLATE = Path("node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml")
"""The bootstrap template of the CDK CLI package.json pins."""
TEMPLATE_DIR = Path("build/bootstrap")
ROLE_RESOURCES: dict[BootstrapRole, str] = {
    "deploy": "DeploymentActionRole",
    "file-publishing": "FilePublishingRole",
    "image-publishing": "ImagePublishingRole",
    "lookup": "LookupRole",
}
ACCOUNT_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}"
BOUNDARY_ARN = {"Fn::Sub": f"{ACCOUNT_ARN}:policy/{PERMISSIONS_BOUNDARY_NAME}"}


ADMINISTRATOR_POLICIES = (
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
)
"""AWS managed policies no role the stacks create may carry."""
BOOTSTRAP_VARIANT = "Platform: least-privilege execution, permissions boundary, pinned trust"
"""The template's variant: the CDK CLI refuses to replace a bootstrap of another variant, so a
plain `cdk bootstrap` (AdministratorAccess, account-root trust) cannot silently undo this one."""


def boundary_document() -> dict[str, Any]:
    """The permissions boundary: everything, except making a role or user without this
    boundary, changing or removing it, changing or passing the deploy path (the CDK
    bootstrap's roles and policies and the bootstrap path role), and attaching AWS's
    administrator policies. Assuming the deploy roles is left to their trust policies (pinned
    by ARN, and only the bootstrap path may change them): the pipeline's own roles carry this
    boundary and assume them."""
    own = BOUNDARY_ARN
    deploy_path_roles = [
        {"Fn::Sub": f"{ACCOUNT_ARN}:role/{CDK_NAME_PREFIX}*"},
        {"Fn::Sub": f"{ACCOUNT_ARN}:role/{BOOTSTRAP_ROLE_NAME}"},
    ]
    deploy_path_policies = [{"Fn::Sub": f"{ACCOUNT_ARN}:policy/{CDK_NAME_PREFIX}*"}]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowWhatIdentityPoliciesAllow",
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
            },
            {
                "Sid": "DenyRolesAndUsersWithoutThisBoundary",
                "Effect": "Deny",
                "Action": [
                    "iam:CreateRole",
                    "iam:CreateUser",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutUserPermissionsBoundary",
                ],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": own}},
            },
            {
                "Sid": "DenyChangingThisBoundary",
                "Effect": "Deny",
                "Action": [
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicy",
                    "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion",
                ],
                "Resource": own,
            },
            {
                "Sid": "DenyRemovingBoundaries",
                "Effect": "Deny",
                "Action": [
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:DeleteUserPermissionsBoundary",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DenyChangingTheDeployPath",
                "Effect": "Deny",
                "Action": [
                    "iam:Attach*",
                    "iam:Create*",
                    "iam:Delete*",
                    "iam:Detach*",
                    "iam:PassRole",
                    "iam:Put*",
                    "iam:SetDefaultPolicyVersion",
                    "iam:Tag*",
                    "iam:Untag*",
                    "iam:Update*",
                ],
                "Resource": deploy_path_roles + deploy_path_policies,
            },
            {
                "Sid": "DenyAdministratorPolicies",
                "Effect": "Deny",
                "Action": ["iam:AttachRolePolicy", "iam:AttachUserPolicy"],
                "Resource": "*",
                "Condition": {"ArnLike": {"iam:PolicyARN": list(ADMINISTRATOR_POLICIES)}},
            },
            {
                "Sid": "DenyLongLivedCredentials",
                "Effect": "Deny",
                "Action": ["iam:CreateAccessKey", "iam:CreateLoginProfile"],
                "Resource": "*",
            },
        ],
    }


def trust_document(principals: Sequence[str]) -> dict[str, Any]:
    """Trust exactly `principals` (by ARN): their accounts as principals, each pinned by
    `aws:PrincipalArn` (a name that may not exist yet cannot be a principal itself)."""
    accounts = sorted({arn.split(":")[4] for arn in principals})
    condition = {"ArnEquals": {"aws:PrincipalArn": sorted(principals)}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PinnedPrincipals",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Principal": {"AWS": accounts if len(accounts) > 1 else accounts[0]},
                "Condition": condition,
            }
        ],
    }


def bootstrap_template(
    config: PlatformConfig,
    name: str,
    region: str,
    cdk_template: dict[str, Any],
    policy: dict[str, Any],
) -> dict[str, Any]:
    """CDK's bootstrap template for account `name` in `region`, made the platform's."""
    template = copy.deepcopy(cdk_template)
    resources = template["Resources"]
    resources.pop("CdkBoostrapPermissionsBoundaryPolicy", None)  # CDK's example, unused
    home = region == config.accounts[name].region
    if home:
        resources["PlatformPermissionsBoundary"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": PERMISSIONS_BOUNDARY_NAME,
                "Description": "Every role the platform's stacks create carries this boundary",
                "PolicyDocument": boundary_document(),
            },
        }
    policy_ids = []
    for index, entry in enumerate(policy["policies"], start=1):
        logical_id = f"PlatformExecutionPolicy{index}"
        policy_ids.append(logical_id)
        resources[logical_id] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": entry["name"],
                "Description": f"What CloudFormation may do in {name} {region} ({index} of "
                f"{len(policy['policies'])}): the handlers of the stacks' resource types",
                "PolicyDocument": entry["document"],
            },
        }
    execution = resources["CloudFormationExecutionRole"]
    execution["Properties"]["ManagedPolicyArns"] = [
        {"Ref": logical_id} for logical_id in policy_ids
    ]
    execution["Properties"]["PermissionsBoundary"] = BOUNDARY_ARN
    if home:
        execution["DependsOn"] = ["PlatformPermissionsBoundary"]
    for role, logical_id in ROLE_RESOURCES.items():
        principals = trusted_principals(config, name, role)
        if principals is not None:
            resources[logical_id]["Properties"]["AssumeRolePolicyDocument"] = trust_document(
                principals
            )
    template["Parameters"]["BootstrapVariant"]["Default"] = BOOTSTRAP_VARIANT
    template["Description"] = (
        f"{template.get('Description', 'CDK bootstrap')} (platform: least-privilege execution, "
        "permissions boundary, pinned trust)"
    )
    return template


def write_templates(
    config: PlatformConfig, *, root: Path = Path("."), out: Path = TEMPLATE_DIR
) -> dict[tuple[str, str], Path]:
    """Write one bootstrap template per account and region; their paths. Fails, naming the
    fix, when an account and region has no committed execution policy."""
    cdk_template = yaml.safe_load((root / CDK_TEMPLATE).read_text(encoding="utf-8"))
    paths = {}
    for name in config.accounts:
        for region in config.deployment_regions(name):
            policy = execution_policy.load(root, name, region)
            if policy is None:
                raise SystemExit(
                    f"no execution policy for {name} in {region}: run `make "
                    "execution-policies` and commit bootstrap/execution-policies/"
                )
            path = root / out / f"{name}-{region}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                yaml.safe_dump(
                    bootstrap_template(config, name, region, cdk_template, policy), sort_keys=False
                ),
                encoding="utf-8",
            )
            paths[(name, region)] = path
    return paths


def bootstrap_commands(
    config: PlatformConfig, *, profile_format: str = "{name}", template_dir: Path = TEMPLATE_DIR
) -> list[list[str]]:
    """One `cdk bootstrap` command per account and region, shared-services (the pipeline's
    home) first, each account's own region (which makes its permissions boundary) first."""
    shared_name, _ = config.account_with_role("shared-services")
    order = [shared_name, *(n for n in config.accounts if n != shared_name)]
    commands = []
    for name in order:
        account = config.accounts[name]
        for region in config.deployment_regions(name):
            command = [
                "npx",
                "cdk",
                "bootstrap",
                f"aws://{account.id}/{region}",
                "--template",
                str(template_dir / f"{name}-{region}.yaml"),
            ]
            if profile_format:
                command += ["--profile", profile_format.format(name=name, id=account.id)]
            command += ["--termination-protection"]
            commands.append(command)
    return commands


def main(
    argv: Sequence[str] | None = None,
    *,
    run: Callable[[list[str]], int] = lambda command: subprocess.call(command),
) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the platform config file")
    parser.add_argument("--execute", action="store_true", help="run the commands (default: print)")
    parser.add_argument(
        "--profile-format",
        default="{name}",
        help="AWS CLI profile per account, from {name} and {id}; '' uses ambient credentials",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    write_templates(config)
    commands = bootstrap_commands(config, profile_format=args.profile_format)
    for command in commands:
        print(("+ " if args.execute else "") + shlex.join(command), flush=True)
        if args.execute and (status := run(command)) != 0:
            print(f"stopped: the command above exited {status}", file=sys.stderr)
            return status
    if config.pipeline and not args.execute:
        shared_name, _ = config.account_with_role("shared-services")
        profile = args.profile_format.format(name=shared_name, id="") if args.profile_format else ""
        deploy = ["npx", "cdk", "deploy", "Pipeline", *(["--profile", profile] if profile else [])]
        print(f"# dry run. Then, once, deploy the pipeline by hand: {shlex.join(deploy)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
