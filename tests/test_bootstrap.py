"""The bootstrap command generator: from config, trust where the pipeline deploys, dry run."""

from __future__ import annotations

import yaml

from config import parse_config
from tests.conftest import SAMPLE_CONFIG
from tools.bootstrap import bootstrap_commands, main


def test_one_command_per_account_shared_services_first(sample_config):
    commands = bootstrap_commands(sample_config)
    targets = [c[3] for c in commands]
    assert targets[0] == "aws://333333333333/eu-west-1"
    assert sorted(targets) == sorted(
        f"aws://{a.id}/{a.region}" for a in sample_config.accounts.values()
    )


def test_edge_accounts_and_the_pipeline_account_are_bootstrapped_in_us_east_1(sample_config):
    """Edge certificates and web ACLs deploy there, and so does the pipeline's artifact bucket
    for that region."""
    environments = {
        c[3]: [e for e in c if e.startswith("aws://")] for c in bootstrap_commands(sample_config)
    }
    with_us_east_1 = {home for home, envs in environments.items() if len(envs) == 2}
    assert with_us_east_1 == {
        f"aws://{sample_config.accounts[n].id}/eu-west-1"
        for n in ("shared-services", "dev", "staging", "prod", "sandbox")
    }
    for home, envs in environments.items():
        assert envs[0] == home
        assert envs[1:] in ([], [home.rsplit("/", 1)[0] + "/us-east-1"])


def test_pipelined_accounts_trust_the_pipeline_account_and_no_one_else_does(sample_config):
    by_account = {c[3].split("/")[2]: c for c in bootstrap_commands(sample_config)}
    trust = ["--trust", "333333333333", "--trust-for-lookup", "333333333333"]
    for account_id in ("222222222222", "444444444444", "555555555555", "666666666666"):
        assert " ".join(trust) in " ".join(by_account[account_id])
    # shared-services itself; management and sandbox, which only a person deploys
    for account_id in ("333333333333", "111111111111", "777777777777"):
        assert "--trust" not in by_account[account_id]


def test_profiles_and_execution_policies_come_from_config_and_flags(sample_config):
    (prod,) = [
        c
        for c in bootstrap_commands(sample_config, profile_format="{name}-admin")
        if "666666666666" in c[3]
    ]
    assert prod[prod.index("--profile") + 1] == "prod-admin"
    assert prod[prod.index("--cloudformation-execution-policies") + 1] == (
        "arn:aws:iam::aws:policy/AdministratorAccess"
    )
    assert "--profile" not in bootstrap_commands(sample_config, profile_format="")[0]


def test_dry_run_prints_and_runs_nothing(capsys):
    ran = []
    assert main(["--config", str(SAMPLE_CONFIG)], run=ran.append) == 0
    out = capsys.readouterr().out.splitlines()
    assert ran == []
    assert out[0].startswith(
        "npx cdk bootstrap aws://333333333333/eu-west-1 aws://333333333333/us-east-1 "
        "--profile shared-services"
    )
    assert out[-1] == (
        "# dry run. Then, once, deploy the pipeline by hand: "
        "npx cdk deploy Pipeline --profile shared-services"
    )
    assert len(out) == 8


def test_execute_runs_each_command_and_stops_at_the_first_failure(capsys):
    ran = []

    def run(command):
        ran.append(command)
        return 0 if len(ran) < 3 else 7

    assert main(["--config", str(SAMPLE_CONFIG), "--execute"], run=run) == 7
    assert len(ran) == 3
    assert "stopped: the command above exited 7" in capsys.readouterr().err


def test_bad_config_exits_2_with_the_problems(tmp_path, sample_raw, capsys):
    raw = {
        **sample_raw,
        "pipeline": {**sample_raw["pipeline"], "cloudformation_execution_policies": ["Admin"]},
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["--config", str(path)], run=lambda c: 0) == 2
    assert "pipeline.cloudformation_execution_policies.0:" in capsys.readouterr().err


def test_without_a_pipeline_nobody_is_trusted(sample_raw):
    config = parse_config({k: v for k, v in sample_raw.items() if k != "pipeline"})
    assert not [c for c in bootstrap_commands(config) if "--trust" in c]
