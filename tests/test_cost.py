"""make cost: fixed monthly charges priced from the templates, to the cent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tools import cost
from tools.assembly import read_stacks

TODAY = date(2026, 11, 23)
TABLE = json.loads(cost.PRICES.read_text())


def assembly(folder: Path, resources: dict) -> Path:
    """A one-stack cloud assembly for the dev account in eu-west-1."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "version": "48.0.0",
                "artifacts": {
                    "devNetwork": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://444444444444/eu-west-1",
                        "displayName": "dev/Network",
                        "properties": {"templateFile": "devNetwork.template.json"},
                    }
                },
            }
        )
    )
    (folder / "devNetwork.template.json").write_text(json.dumps({"Resources": resources}))
    return folder


SMALL = {
    "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    "Ip": {"Type": "AWS::EC2::EIP", "Properties": {}},
    "Sts": {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcEndpointType": "Interface",
            "ServiceName": "com.amazonaws.eu-west-1.sts",
            "SubnetIds": ["a", "b"],
        },
    },
    "S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
    "Cluster": {"Type": "AWS::EKS::Cluster", "Properties": {"Version": "1.35"}},
    "Template": {
        "Type": "AWS::EC2::LaunchTemplate",
        "Properties": {
            "LaunchTemplateData": {"BlockDeviceMappings": [{"Ebs": {"VolumeSize": 50}}]}
        },
    },
    "Nodes": {
        "Type": "AWS::EKS::Nodegroup",
        "Properties": {
            "InstanceTypes": ["m7g.large"],
            "ScalingConfig": {"DesiredSize": 2, "MinSize": 2, "MaxSize": 4},
            "LaunchTemplate": {"Id": {"Ref": "Template"}},
        },
    },
    "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    "Logs": {"Type": "AWS::S3::Bucket", "Properties": {}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    "Mystery": {"Type": "AWS::Foo::Bar", "Properties": {}},
}


def test_a_small_assembly_is_priced_to_the_cent(tmp_path):
    result = cost.estimate(read_stacks(assembly(tmp_path, SMALL)), TABLE, today=TODAY)
    # NAT 0.048 x 730 = 35.04; IPv4 0.005 x 730 = 3.65; sts in 2 AZs 2 x 0.011 x 730 = 16.06;
    # EKS 0.10 x 730 = 73.00; 2 x m7g.large 2 x 0.0906 x 730 = 132.28; 2 x 50 GiB x 0.088 = 8.80;
    # one KMS key 1.00
    assert result.by_account() == {
        "dev": {
            "NAT gateways": 35.04 + 3.65,
            "Interface endpoints": 16.06,
            "EKS control planes": 73.00,
            "EKS nodes": 132.28 + 8.80,
            "Keys and secrets": 1.00,
        }
    }
    assert result.total() == 269.83


def test_unknown_types_are_reported_not_priced_at_zero(tmp_path):
    result = cost.estimate(read_stacks(assembly(tmp_path, SMALL)), TABLE, today=TODAY)
    assert result.not_priced == {"AWS::Foo::Bar": 1}
    assert result.usage_based == {"AWS::S3::Bucket": 1}
    assert "Not priced (add them to tools/prices.json and tools/cost.py): AWS::Foo::Bar x 1" in (
        cost.to_markdown(result)
    )


def test_an_instance_size_missing_from_the_table_is_not_priced(tmp_path):
    odd = {"Nodes": {**SMALL["Nodes"], "Properties": {"InstanceTypes": ["x9z.huge"]}}}
    result = cost.estimate(read_stacks(assembly(tmp_path, odd)), TABLE, today=TODAY)
    assert result.lines == []
    assert result.not_priced == {"AWS::EKS::Nodegroup (ec2_instance_hour: x9z.huge)": 1}


def test_the_diff_shows_what_a_change_adds(tmp_path):
    before_resources = {k: v for k, v in SMALL.items() if k not in ("Nat", "Ip")}
    before = cost.estimate(
        read_stacks(assembly(tmp_path / "before", before_resources)), TABLE, today=TODAY
    )
    after = cost.estimate(read_stacks(assembly(tmp_path / "after", SMALL)), TABLE, today=TODAY)
    assert cost.diff(before, after) == [("dev", "NAT gateways", 0.0, 38.69)]
    assert "| **total** | | $231.14 | $269.83 | **+38.69** |" in cost.diff_markdown(before, after)


def test_the_command_writes_where_the_readme_says(tmp_path, capsys):
    out = tmp_path / "reports" / "cost"
    cost.main(["--assembly", str(assembly(tmp_path / "a", SMALL)), "--out", str(out)])
    assert (out / "cost.md").read_text().startswith("# Estimated monthly run-rate")
    rows = (out / "cost.csv").read_text().splitlines()
    assert rows[0] == "account,stack,category,item,monthly_usd"
    assert "dev,dev/Network,NAT gateways,NAT gateway,35.04" in rows
    assert "**$269.83**" in capsys.readouterr().out


def test_every_priced_resource_of_the_sample_organisation_is_known(organisation, sample_config):
    result = cost.estimate(read_stacks(organisation.outdir), TABLE, today=TODAY)
    assert result.not_priced == {}
    accounts = result.by_account()
    assert set(accounts) == set(sample_config.accounts)
    assert accounts["prod"]["Databases"] > accounts["dev"]["Databases"]


def test_prices_refresh_from_the_price_list_api(tmp_path):
    import boto3
    from botocore.stub import Stubber

    from tools import prices

    def product(usd: str) -> str:
        dimension = {"unit": "Hrs", "pricePerUnit": {"USD": usd}}
        return json.dumps({"terms": {"OnDemand": {"T": {"priceDimensions": {"D": dimension}}}}})

    table = {
        "as_of": "2020-01-01",
        "regions": {"eu-west-1": {"ec2_instance_hour": {"m7g.large": 0.1, "x9z.huge": 9.9}}},
    }
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        for size, answer in (
            ("m7g.large", [product("0.0000000000"), product("0.0912")]),
            ("x9z.huge", []),
        ):
            stub.add_response(
                "get_products",
                {"PriceList": answer},
                {
                    "ServiceCode": "AmazonEC2",
                    "Filters": prices.QUERIES["ec2_instance_hour"](size, "eu-west-1")[1],
                    "MaxResults": 10,
                },
            )
        missing = prices.refresh(table, client, today=TODAY)
        stub.assert_no_pending_responses()
    assert table["regions"]["eu-west-1"]["ec2_instance_hour"] == {
        "m7g.large": 0.0912,
        "x9z.huge": 9.9,
    }
    assert missing == ["eu-west-1 ec2_instance_hour x9z.huge"]
    assert table["as_of"] == "2026-11-23"


def test_container_insights_is_priced_per_node_observation(tmp_path):
    """The CloudWatch Observability add-on costs its nodes' observations a month: 2 nodes x
    1000 a minute x 60 x 730 = 87.6 million x the table's price; other add-ons are free."""
    addons = {
        "Insights": {
            "Type": "AWS::EKS::Addon",
            "Properties": {"AddonName": "amazon-cloudwatch-observability"},
        },
        "Dns": {"Type": "AWS::EKS::Addon", "Properties": {"AddonName": "coredns"}},
    }
    result = cost.estimate(read_stacks(assembly(tmp_path, {**SMALL, **addons})), TABLE, today=TODAY)
    price = TABLE["regions"]["eu-west-1"]["container_insights_observations_million"]
    assert result.by_account()["dev"]["Monitoring"] == round(87.6 * price, 2)


def test_each_team_is_priced_from_its_quotas_in_each_of_its_accounts(organisation, sample_config):
    """Per team and environment: its quota requests as a share of the account's system node
    type (max of CPU and memory share) x that node's monthly price, its PVC quota as gp3, and
    its ECR repositories (assumed 5 GB each) in shared-services; nothing where it does not run."""
    from facts.ec2 import INSTANCE_SIZES

    lines = cost.team_costs(read_stacks(organisation.outdir), sample_config, TABLE)
    by = {(line.team, line.account): line for line in lines}
    assert set(by) == {
        ("checkout", "dev"), ("checkout", "staging"), ("checkout", "prod"),
        ("checkout", "shared-services"),
        ("reports", "dev"), ("reports", "staging"), ("reports", "shared-services"),
    }  # fmt: skip
    assert ("reports", "prod") not in by  # reports has no prod environment: nothing there
    for (team, account), line in by.items():
        if account == "shared-services":
            images = len(sample_config.teams[team].images)
            rate = TABLE["regions"][sample_config.accounts[account].region]["ecr_storage_gb_month"]
            assert line.images_usd == round(images * 5.0 * rate, 2) > 0
            assert line.compute_usd == line.storage_usd == 0
            continue
        quotas = sample_config.teams[team].environments[account].namespaces.values()
        cluster = sample_config.accounts[account].cluster
        assert cluster is not None
        node = cluster.system_nodes.instance_types[0]
        prices = TABLE["regions"][sample_config.accounts[account].region]
        size = INSTANCE_SIZES[node]
        share = max(
            sum(q.cpu for q in quotas) / size.vcpus,
            sum(q.memory_gib for q in quotas) / size.memory_gib,
        )
        assert line.compute_usd == round(share * prices["ec2_instance_hour"][node] * 730, 2) > 0
        storage = sum(q.storage_gib for q in quotas)
        assert line.storage_usd == round(storage * prices["ebs_gp3_gb_month"], 2)
    # checkout in dev: 4 vCPU, 8 GiB of an m7g.large (2 vCPU, 8 GiB) = 2 nodes' worth
    assert by[("checkout", "dev")].compute_usd == round(2 * 0.0906 * 730, 2)
    # reports in dev: 20 GiB of PVC at 0.088
    assert by[("reports", "dev")].storage_usd == 1.76


def test_the_per_team_table_is_added_and_the_account_table_is_unchanged(
    organisation, sample_config, tmp_path
):
    out = tmp_path / "cost"
    assert cost.main(["--assembly", str(organisation.outdir), "--out", str(out)]) == 0
    markdown = (out / "cost.md").read_text()
    accounts_only = cost.to_markdown(cost.estimate(read_stacks(organisation.outdir), TABLE))
    assert markdown.startswith(accounts_only)
    teams = markdown.removeprefix(accounts_only)
    assert "**Per team**" in teams and "max(CPU requests / its vCPUs" in teams
    assert "| checkout | dev | 4 vCPU, 8 GiB = 2.00 of m7g.large | $132.28 |" in teams
    assert "| reports | prod |" not in teams
    rows = (out / "cost.csv").read_text().splitlines()
    assert rows[0] == "account,stack,category,item,monthly_usd"
