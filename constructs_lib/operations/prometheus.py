"""Prometheus metrics of an EKS cluster: an Amazon Managed Service for Prometheus (AMP)
workspace, the AWS managed collector (`AWS::APS::Scraper`) that fills it from the cluster, and
optionally an Amazon Managed Grafana workspace that reads it.

What the collector needs, per the AMP user guide
(https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-collector-how-to.html):

- the cluster's ARN, at least two subnets in two Availability Zones of the cluster's VPC and
  "the security group ... for the cluster you are connecting to": its ENIs join the EKS
  cluster security group, which admits all traffic from itself, so they reach the private API
  endpoint (which carries it) and the pods on the nodes (which carry it) without a rule of
  their own;
- a private API endpoint (the cluster's is private, or private and public);
- the service-linked role `AWSServiceRoleForAmazonPrometheusScraper`, which CreateScraper
  makes when missing (https://docs.aws.amazon.com/prometheus/latest/userguide/using-service-linked-roles.html);
- Kubernetes access. With the cluster in the `API` authentication mode (aws_eks_v2's default,
  which PlatformCluster keeps), AMP creates the scraper role's EKS access entry itself, with
  the `AmazonPrometheusScraperPolicy` access policy; EKS refuses an access entry for a
  service-linked role from anyone else ("The caller is not allowed to modify access entries
  with a principalArn value of a Service Linked Role"), so the template declares none, and
  the `aps-collector-role` ClusterRole of the guide's manual path is only for clusters still on
  the aws-auth ConfigMap. The scraper refers to the cluster's ARN, so CloudFormation creates it
  after the cluster.

The scrape configuration is the guide's example for EKS, trimmed: the API server, each node's
kubelet and cAdvisor (through the API server's node proxy, so nothing reaches the kubelet port
directly) and the pods annotated `prometheus.io/scrape: "true"` (path and port from
`prometheus.io/path` and `prometheus.io/port`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import yaml
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_aps as aps
from aws_cdk import aws_grafana as grafana
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.shared.encryption import log_group_key, platform_key

SCRAPE_INTERVAL = "30s"
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # the collector's own token
API_SERVER = "kubernetes.default.svc:443"


def _node_proxy(job: str, path: str) -> dict[str, Any]:
    """A job scraping every node's kubelet `path` through the API server's node proxy."""
    return {
        "job_name": job,
        "scheme": "https",
        "authorization": {"credentials_file": TOKEN},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
            {"replacement": API_SERVER, "target_label": "__address__"},
            {
                "source_labels": ["__meta_kubernetes_node_name"],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
                "replacement": f"/api/v1/nodes/$1/proxy{path}",
            },
        ],
    }


SCRAPE_CONFIGURATION: dict[str, Any] = {
    "global": {"scrape_interval": SCRAPE_INTERVAL},
    "scrape_configs": [
        {
            "job_name": "kubernetes-apiservers",
            "scheme": "https",
            "bearer_token_file": TOKEN,
            "kubernetes_sd_configs": [{"role": "endpoints"}],
            "relabel_configs": [
                {
                    "action": "keep",
                    "source_labels": [
                        "__meta_kubernetes_namespace",
                        "__meta_kubernetes_service_name",
                        "__meta_kubernetes_endpoint_port_name",
                    ],
                    "regex": "default;kubernetes;https",
                }
            ],
        },
        _node_proxy("kubelet", "/metrics"),
        _node_proxy("cadvisor", "/metrics/cadvisor"),
        {
            "job_name": "kubernetes-pods",
            "kubernetes_sd_configs": [{"role": "pod"}],
            "relabel_configs": [
                {
                    "action": "keep",
                    "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
                    "regex": "true",
                },
                {
                    "action": "replace",
                    "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
                    "regex": "(.+)",
                    "target_label": "__metrics_path__",
                },
                {
                    "action": "replace",
                    "source_labels": [
                        "__address__",
                        "__meta_kubernetes_pod_annotation_prometheus_io_port",
                    ],
                    "regex": r"([^:]+)(?::\d+)?;(\d+)",
                    "replacement": "$1:$2",
                    "target_label": "__address__",
                },
                {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            ],
        },
    ],
}
"""The collector's Prometheus configuration (ConfigurationBlob: base64 of this YAML)."""


def scrape_configuration_blob() -> str:
    return base64.b64encode(yaml.safe_dump(SCRAPE_CONFIGURATION, sort_keys=False).encode()).decode()


GRAFANA_QUERY_ACTIONS = (
    "aps:DescribeWorkspace",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
    "aps:GetSeries",
    "aps:QueryMetrics",
)
"""What a Grafana data source needs to read one workspace (AMP's IAM actions:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedserviceforprometheus.html)."""


class ClusterPrometheus(Construct):
    """An encrypted, logged AMP workspace fed by an AWS managed collector from one cluster.

    - Workspace: alias `name`, encrypted with a rotating customer managed key (AMP uses it
      through grants it creates with the caller's rights, which the platform key policy gives
      the account's principals for AWS resources only:
      https://docs.aws.amazon.com/prometheus/latest/userguide/encryption-at-rest-Amazon-Service-Prometheus.html),
      its rule-evaluation and alert-manager logs to an encrypted log group kept
      `log_retention` (https://docs.aws.amazon.com/prometheus/latest/userguide/CW-logs.html).
    - Scraper: the cluster as source (its ARN, `subnet_ids`, the cluster security group),
      `SCRAPE_CONFIGURATION`, the workspace as destination.
    - With `grafana`, an Amazon Managed Grafana workspace (IAM Identity Center sign-in, which
      must be enabled in the organisation first) whose role may query this workspace only.

    Exposes `workspace`, `endpoint` (the Prometheus-compatible endpoint, ending in `/`),
    `scraper` and `grafana` (or None).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cluster_arn: str,
        cluster_security_group_id: str,
        subnet_ids: Sequence[str],
        log_retention: logs.RetentionDays,
        grafana_workspace: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        self.key = platform_key(
            self,
            "Key",
            description=f"Encrypts the Prometheus workspace of {name}",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/prometheus/{name}",
            encryption_key=log_group_key(
                self, "LogsKey", description=f"Encrypts the Prometheus workspace logs of {name}"
            ),
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.workspace = aps.CfnWorkspace(
            self,
            "Workspace",
            alias=name,
            kms_key_arn=self.key.key_arn,
            logging_configuration=aps.CfnWorkspace.LoggingConfigurationProperty(
                log_group_arn=f"{self.log_group.log_group_arn}"
            ),
        )
        self.workspace.apply_removal_policy(RemovalPolicy.RETAIN)
        self.endpoint = self.workspace.attr_prometheus_endpoint
        self.scraper = aps.CfnScraper(
            self,
            "Scraper",
            alias=name,
            source=aps.CfnScraper.SourceProperty(
                eks_configuration=aps.CfnScraper.EksConfigurationProperty(
                    cluster_arn=cluster_arn,
                    subnet_ids=list(subnet_ids),
                    security_group_ids=[cluster_security_group_id],
                )
            ),
            scrape_configuration=aps.CfnScraper.ScrapeConfigurationProperty(
                configuration_blob=scrape_configuration_blob()
            ),
            destination=aps.CfnScraper.DestinationProperty(
                amp_configuration=aps.CfnScraper.AmpConfigurationProperty(
                    workspace_arn=self.workspace.attr_arn
                )
            ),
        )
        self.grafana = self._grafana(name) if grafana_workspace else None

    def _grafana(self, name: str) -> grafana.CfnWorkspace:
        """Amazon Managed Grafana, signed in through IAM Identity Center, whose
        customer-managed role reads this workspace alone
        (https://docs.aws.amazon.com/grafana/latest/userguide/AMG-manage-permissions.html)."""
        role = iam.Role(
            self,
            "GrafanaRole",
            description=f"Amazon Managed Grafana of {name}: reads its Prometheus workspace",
            assumed_by=iam.ServicePrincipal(
                "grafana.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(GRAFANA_QUERY_ACTIONS), resources=[self.workspace.attr_arn]
            )
        )
        workspace = grafana.CfnWorkspace(
            self,
            "Grafana",
            name=name,
            description=f"Dashboards of the {name} cluster's Prometheus metrics",
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=["AWS_SSO"],
            permission_type="CUSTOMER_MANAGED",
            role_arn=role.role_arn,
            data_sources=["PROMETHEUS"],
        )
        workspace.node.add_dependency(role)
        return workspace
