"""EKS through Container Insights: the CloudWatch Observability add-on on every cluster (pinned,
its agent's role through Pod Identity, no second copy of the container logs), the cluster's
alarms on its account's topic, and the platform rule that demands them."""

from __future__ import annotations

import json

from config.eks_calendar import ADDON_VERSIONS
from policies.platform import monitored
from tests.helpers import props

CLUSTER = ("Eks", {"Type": "AWS::EKS::Cluster", "Properties": {}})
TOPIC = "arn:aws:sns:eu-west-1:444444444444:exco-dev-alarms"


def _alarm(actions: list) -> tuple[str, dict]:
    return (
        "A",
        {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmActions": actions,
                "Namespace": "ContainerInsights",
                "Dimensions": [{"Name": "ClusterName", "Value": {"Ref": "Eks"}}],
            },
        },
    )


def test_a_cluster_needs_an_alarm_on_the_topic():
    """Non-compliant: a cluster alone, or with an alarm that sends nowhere; compliant: an
    alarm naming it that sends to the account's alarm topic."""
    assert list(monitored.unmonitored({"Resources": dict([CLUSTER])})) == [
        ("Eks", "AWS::EKS::Cluster Eks has no alarm on the account's alarm topic")
    ]
    assert list(monitored.unmonitored({"Resources": dict([CLUSTER, _alarm([])])})) != []
    assert list(monitored.unmonitored({"Resources": dict([CLUSTER, _alarm([TOPIC])])})) == []


def test_every_cluster_runs_the_observability_add_on_pinned_with_pod_identity(organisation):
    for stage, stack in organisation.stacks_named("Cluster").items():
        (cluster_id,) = stack.of_type("AWS::EKS::Cluster")
        version = props(stack.of_type("AWS::EKS::Cluster")[cluster_id])["Version"]
        (addon,) = [
            props(a)
            for a in stack.of_type("AWS::EKS::Addon").values()
            if props(a)["AddonName"] == "amazon-cloudwatch-observability"
        ]
        assert addon["AddonVersion"] == ADDON_VERSIONS[version]["amazon-cloudwatch-observability"]
        # Fluent Bit (Argo CD) already ships the container logs: the add-on must not too
        assert json.loads(addon["ConfigurationValues"]) == {"containerLogs": {"enabled": False}}
        (association,) = addon["PodIdentityAssociations"]
        assert association["ServiceAccount"] == "cloudwatch-agent"
        role_id = association["RoleArn"]["Fn::GetAtt"][0]
        role = props(stack.resources[role_id])
        assert role["ManagedPolicyArns"] == [
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":iam::aws:policy/CloudWatchAgentServerPolicy",
                    ],
                ]
            }
        ]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}, stage
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
            "Fn::GetAtt": [cluster_id, "Arn"]
        }


def test_every_cluster_alarms_on_its_accounts_topic(organisation, sample_config):
    for stage, stack in organisation.stacks_named("Cluster").items():
        (cluster_id,) = stack.of_type("AWS::EKS::Cluster")
        thresholds = sample_config.accounts[stage].thresholds()
        by_name = {
            props(a)["AlarmName"]: props(a)
            for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        }
        prefix = f"exco-{stage}-eks-"
        for alarm in (a for n, a in by_name.items() if n.startswith(prefix)):
            assert alarm["AlarmActions"] == [
                f"arn:aws:sns:{stack.region}:{stack.account}:exco-{stage}-alarms"
            ]
        name = {"Name": "ClusterName", "Value": {"Ref": cluster_id}}
        for short, metric, threshold in (
            ("node-cpu", "node_cpu_utilization", thresholds.cpu_percent),
            ("node-memory", "node_memory_utilization", thresholds.memory_percent),
            ("failed-nodes", "cluster_failed_node_count", 0),
        ):
            alarm = by_name[prefix + short]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("ContainerInsights", metric)
            assert alarm["Dimensions"] == [name]
            assert alarm["Threshold"] == threshold, (stage, short)
        restarts = by_name[prefix + "pod-restarts"]
        expression = restarts["Metrics"][0]["Expression"]["Fn::Join"][1]
        assert "pod_number_of_container_restarts" in expression[0]
        assert expression[1] == {"Ref": cluster_id}
        api = by_name[prefix + "apiserver-5xx-rate"]
        assert api["Threshold"] == thresholds.error_rate_percent
        stats = {
            m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]
            for m in api["Metrics"]
            if "MetricStat" in m
        }
        assert set(stats) == {"apiserver_request_total_5XX", "apiserver_request_total"}
        assert all(
            m["Namespace"] == "AWS/EKS" and m["Dimensions"] == [name] for m in stats.values()
        )
