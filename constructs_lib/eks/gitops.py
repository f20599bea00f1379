"""Argo CD bootstrap and hub-and-spoke registration: the CDK side of the GitOps boundary.

CDK installs exactly two things in a cluster, Argo CD and one root Application, plus the
bridge (an Argo CD cluster Secret carrying `gitops_bridge` facts). Everything else in the
cluster belongs to Argo CD.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnResource, Duration, SecretValue, Stack
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib.eks import hub_access
from constructs_lib.eks.argocd_notifications import ArgoCdNotifications
from constructs_lib.eks.gitops_bridge import registration_fields
from constructs_lib.eks.pod_identity import pods_of
from constructs_lib.shared.encryption import platform_key
from facts.kubernetes import ARGOCD_NAMESPACE, PLATFORM_PROJECT
from policies.acknowledgements import acknowledge_all, controls
from policies.wildcards import acknowledge_wildcards

ARGOCD_CHART_REPOSITORY = "https://argoproj.github.io/argo-helm"
PLATFORM_CHART_REPOSITORIES = (
    "https://charts.jetstack.io",
    "https://charts.external-secrets.io",
    "public.ecr.aws/karpenter",
    "https://aws.github.io/eks-charts",
    "https://kubernetes-sigs.github.io/external-dns/",
    ARGOCD_CHART_REPOSITORY,  # Argo Rollouts
)
"""The chart repositories of gitops/bootstrap/addons.yaml (tests/test_teams_gitops.py checks
that every repoURL of gitops/bootstrap is the GitOps repository or one of these)."""
ARGOCD_SERVICE_ACCOUNTS = (
    "argocd-application-controller",
    "argocd-applicationset-controller",
    "argocd-server",
)
"""The argo-cd chart's service accounts that talk to other clusters (hub role holders)."""

HIGH_AVAILABILITY_VALUES: Mapping[str, Any] = {
    "redis-ha": {"enabled": True},
    "controller": {"replicas": 2},
    "server": {"replicas": 2},
    "repoServer": {"replicas": 2},
    "applicationSet": {"replicas": 2},
}
"""Argo CD's documented HA shape: redis-ha and two replicas of every component."""


class ArgoCdBootstrap(Construct):
    """Argo CD (Helm, pinned), the root Application (app-of-apps) and the in-cluster bridge
    Secret, on one cluster.

    As the hub (`hub_role_name` given), Argo CD's controllers hold a Pod Identity role with
    that deterministic name, allowed only to assume each spoke's role. The spokes'
    registration secrets are read by a second role (`registration_reader_role_name`), which
    only the hub's External Secrets role may assume and which can do nothing else: Argo CD
    never reads registrations, and External Secrets never reaches a spoke cluster.
    Exposes `chart`, `root_application`, `hub_role` and `registration_reader` (None unless
    hub), and `notifications` (None without `alarm_topic_arn`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.ICluster,
        chart_version: str,
        repository_url: str,
        revision: str,
        path: str,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        high_availability: bool = False,
        values: Mapping[str, Any] | None = None,
        hub_role_name: str | None = None,
        spoke_role_arns: Sequence[str] = (),
        registration_secret_arns: Sequence[str] = (),
        registration_reader_role_name: str | None = None,
        external_secrets_role: iam.IRole | None = None,
        alarm_topic_arn: str | None = None,
    ) -> None:
        """
        :param chart_version: the argo-cd chart version, e.g. "9.5.4".
        :param repository_url: revision: path: where the root Application reads.
        :param labels: annotations: the bridge facts for this cluster's Secret.
        :param high_availability: HA replicas (prod and the hub); default False.
        :param values: Helm values merged over the defaults; default none.
        :param hub_role_name: makes this cluster the hub; default None (standalone).
        :param spoke_role_arns: roles the hub may assume, one per spoke cluster.
        :param registration_secret_arns: the spokes' registration secrets the hub may read.
        :param registration_reader_role_name: the role that reads `registration_secret_arns`
            (deterministic: the spokes name it in their secret and key policies); required
            with spokes.
        :param external_secrets_role: the hub's External Secrets Pod Identity role, the only
            principal that may assume the registration reader; required with spokes.
        :param alarm_topic_arn: where failed syncs and degraded applications are notified
            (`ArgoCdNotifications`, exposed as `notifications`); default None (no
            notifications).
        """
        super().__init__(scope, id_)
        if hub_role_name is None and (spoke_role_arns or registration_secret_arns):
            raise ValueError("hub_role_name: spokes given but this cluster is not the hub")
        if registration_secret_arns and (
            registration_reader_role_name is None or external_secrets_role is None
        ):
            raise ValueError(
                "registration_reader_role_name, external_secrets_role: registrations to read "
                "need their own reader role and the External Secrets role that assumes it"
            )
        self.hub_role = (
            self._hub_role(cluster, hub_role_name, spoke_role_arns) if hub_role_name else None
        )
        self.registration_reader = (
            self._registration_reader(
                registration_reader_role_name, external_secrets_role, registration_secret_arns
            )
            if registration_secret_arns
            and registration_reader_role_name
            and external_secrets_role is not None
            else None
        )
        self.notifications = (
            ArgoCdNotifications(
                self,
                "Notifications",
                cluster_name=cluster.cluster_name,
                cluster_arn=cluster.cluster_arn,
                topic_arn=alarm_topic_arn,
                queue_name=f"{cluster.cluster_name}-argocd-notifications",
            )
            if alarm_topic_arn is not None
            else None
        )
        defaults = dict(HIGH_AVAILABILITY_VALUES) if high_availability else {}
        if self.notifications is not None:
            defaults["notifications"] = self.notifications.values
        self.chart = eks.HelmChart(
            self,
            "ArgoCd",
            cluster=cluster,
            chart="argo-cd",
            repository=ARGOCD_CHART_REPOSITORY,
            version=chart_version,
            release="argocd",
            namespace=ARGOCD_NAMESPACE,
            create_namespace=True,
            wait=True,
            timeout=Duration.minutes(15),
            values=_merge(defaults, values or {}),
        )
        self.root_application = eks.KubernetesManifest(
            self,
            "RootApplication",
            cluster=cluster,
            # The project first: the root Application belongs to it (`default` is locked by
            # gitops/bootstrap/projects.yaml).
            manifest=[
                platform_project(repository_url),
                root_application(repository_url, revision, path),
            ],
        )
        self.root_application.node.add_dependency(self.chart)
        bridge = eks.KubernetesManifest(
            self,
            "BridgeSecret",
            cluster=cluster,
            manifest=[in_cluster_secret(cluster.cluster_name, labels, annotations)],
        )
        bridge.node.add_dependency(self.chart)

    def _hub_role(
        self, cluster: eks.ICluster, role_name: str, spoke_role_arns: Sequence[str]
    ) -> iam.Role:
        """Argo CD's role: Pod Identity for its three service accounts; assumes spoke roles."""
        role = iam.Role(
            self,
            "HubRole",
            role_name=role_name,
            description="Argo CD on the hub: assume the spoke roles",
            assumed_by=pods_of(self, cluster.cluster_arn),
        )
        for service_account in ARGOCD_SERVICE_ACCOUNTS:
            eks_l1.CfnPodIdentityAssociation(
                self,
                service_account,
                cluster_name=cluster.cluster_name,
                namespace=ARGOCD_NAMESPACE,
                service_account=service_account,
                role_arn=role.role_arn,
            )
        if spoke_role_arns:
            iam.ManagedPolicy(
                self,
                "HubPolicy",
                roles=[role],
                description="Reach the spoke clusters registered with this hub",
                statements=[
                    iam.PolicyStatement(
                        sid="AssumeSpokeRoles",
                        actions=["sts:AssumeRole", "sts:TagSession"],
                        resources=list(spoke_role_arns),
                    )
                ],
            )
        return role

    def _registration_reader(
        self,
        role_name: str,
        external_secrets_role: iam.IRole,
        registration_secret_arns: Sequence[str],
    ) -> iam.Role:
        """The role External Secrets assumes (ClusterSecretStore `role`) to read the spokes'
        registrations, and nothing else; trusted by the hub's External Secrets role only."""
        stack = Stack.of(self)
        reader = iam.Role(
            self,
            "RegistrationReader",
            role_name=role_name,
            description="External Secrets on the hub: read the spokes' registrations only",
            assumed_by=iam.ArnPrincipal(external_secrets_role.role_arn),
        )
        spoke_accounts = sorted({arn.split(":")[4] for arn in registration_secret_arns})
        policy = iam.ManagedPolicy(
            self,
            "RegistrationReaderPolicy",
            roles=[reader],
            description="Read the spokes' registration secrets",
            statements=[
                iam.PolicyStatement(
                    sid="ReadSpokeRegistrations",
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[f"{arn}-*" for arn in registration_secret_arns],
                ),
                iam.PolicyStatement(
                    sid="DecryptSpokeRegistrations",
                    actions=["kms:Decrypt"],
                    resources=[
                        f"arn:{stack.partition}:kms:*:{account}:key/*" for account in spoke_accounts
                    ],
                    conditions={"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
                ),
            ],
        )
        acknowledge_wildcards(
            policy,
            {
                "ReadSpokeRegistrations": "Secrets Manager appends a random suffix to each "
                "secret's ARN; each entry is one spoke's registration secret by its name.",
                "DecryptSpokeRegistrations": "Each spoke's registration key is created in "
                "the spoke account with a generated id; decryption is allowed only through "
                "Secrets Manager, in the spoke accounts only.",
            },
        )
        # The identity side of the same-account assumption (the trust names this role).
        iam.ManagedPolicy(
            self,
            "ExternalSecretsAssumesReader",
            roles=[external_secrets_role],
            description="External Secrets on the hub: assume the registration reader",
            statements=[
                iam.PolicyStatement(
                    sid="AssumeRegistrationReader",
                    actions=["sts:AssumeRole"],
                    resources=[reader.role_arn],
                )
            ],
        )
        return reader


class SpokeRegistration(Construct):
    """What a spoke cluster gives the hub: a role the hub's Argo CD may assume, with the
    Kubernetes access `constructs_lib.eks.hub_access` states (not cluster admin), and a
    registration secret only the hub's registration reader can read.

    The secret (KMS, JSON) holds the cluster's name, endpoint, CA, region, environment, the
    spoke role and the bridge labels/annotations as `label_*` / `annotation_*` fields.
    Exposes `role`, `secret` and `rbac` (the ClusterRole and its binding on the cluster).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        hub_role_arn: str,
        registration_reader_arn: str,
        role_name: str,
        secret_name: str,
        environment: str,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> None:
        """
        :param hub_role_arn: the hub's Argo CD role, the only one that may assume `role`.
        :param registration_reader_arn: the hub's registration reader, the only principal
            outside this account that may read the secret (and decrypt it).
        """
        super().__init__(scope, id_)
        hub_account = hub_role_arn.split(":")[4]
        if registration_reader_arn.split(":")[4] != hub_account:
            raise ValueError(
                "registration_reader_arn: must be in the hub's account "
                f"({hub_account}); got {registration_reader_arn!r}"
            )
        only_the_hub_role = {"ArnEquals": {"aws:PrincipalArn": hub_role_arn}}
        only_the_reader = {"ArnEquals": {"aws:PrincipalArn": registration_reader_arn}}
        self._role(role_name, hub_account, only_the_hub_role, cluster)
        key = self._key(hub_account, only_the_reader)
        self._secret(
            secret_name,
            key=key,
            hub_account=hub_account,
            only_the_reader=only_the_reader,
            fields={
                "name": cluster.cluster_name,
                "server": cluster.cluster_endpoint,
                "caData": cluster.cluster_certificate_authority_data,
                "region": Stack.of(self).region,
                "environment": environment,
                "roleArn": self.role.role_arn,
                **registration_fields(labels, annotations),
            },
        )

    def _role(
        self,
        role_name: str,
        hub_account: str,
        only_the_hub_role: Mapping[str, Any],
        cluster: eks.Cluster,
    ) -> None:
        """The role (`role`) only the hub's role may assume (and tag sessions of), and its
        access to the cluster: an access entry with no access policy whose sessions are in
        `hub_access.HUB_GROUP`, bound to `hub_access`'s ClusterRole (`rbac`)."""
        hub = iam.AccountPrincipal(hub_account).with_conditions(only_the_hub_role)
        self.role = iam.Role(
            self,
            "SpokeRole",
            role_name=role_name,
            description="Assumed by the hub's Argo CD to deploy to this cluster",
            assumed_by=hub,
        )
        assert self.role.assume_role_policy is not None  # every Role has a trust policy
        self.role.assume_role_policy.add_statements(
            iam.PolicyStatement(actions=["sts:TagSession"], principals=[hub])
        )
        # Same construct id as before (an access entry's principal cannot be in two entries,
        # so a replacement would fail): the entry is updated in place.
        cluster.grant_access("HubAccess", self.role.role_arn, [])
        entry = cluster.node.find_child("HubAccess").node.default_child
        assert isinstance(entry, CfnResource)  # aws_eks_v2's own CfnAccessEntry
        entry.add_property_override("KubernetesGroups", [hub_access.HUB_GROUP])
        self.rbac = cluster.add_manifest("HubRbac", *hub_access.manifests())

    def _key(self, hub_account: str, only_the_reader: Mapping[str, Any]) -> kms.Key:
        """The registration's key: the hub's reader decrypts, through Secrets Manager only."""
        key = platform_key(
            self,
            "RegistrationKey",
            description="Encrypts this cluster's registration for the GitOps hub",
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="HubDecryptsThroughSecretsManager",
                principals=[iam.AccountPrincipal(hub_account)],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    **only_the_reader,
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{Stack.of(self).region}.amazonaws.com"
                    },
                },
            )
        )
        return key

    def _secret(
        self,
        secret_name: str,
        *,
        key: kms.IKey,
        hub_account: str,
        only_the_reader: Mapping[str, Any],
        fields: Mapping[str, Any],
    ) -> None:
        """The registration secret (`secret`): `fields` as JSON, readable from outside this
        account by the hub's registration reader only."""
        self.secret = secretsmanager.Secret(
            self,
            "Registration",
            secret_name=secret_name,
            description="Cluster registration read by the GitOps hub (not a credential)",
            encryption_key=key,
            # One jsii value for the document instead of one per field (a round trip each);
            # CDK renders `secret_object_value` with JSON.stringify too: same template.
            secret_string_value=SecretValue.unsafe_plain_text(
                json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
            ),
        )
        self.secret.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyTheHubReadsFromOutside",
                principals=[iam.AccountPrincipal(hub_account)],
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=["*"],
                conditions=only_the_reader,
            )
        )
        acknowledge_all(
            self.secret,
            {
                "AwsSolutions::AwsSolutions-SMG4": (
                    "Not a credential: the cluster's public facts (endpoint, CA, role ARN) for "
                    "the hub; it changes only when the cluster does, so there is nothing to "
                    "rotate."
                ),
                **controls(
                    "SecretsManagerRotationEnabled",
                    "Not a credential: the cluster's public facts for the hub; there is "
                    "nothing to rotate (see AwsSolutions-SMG4).",
                    packs=("NIST.800.53.R5", "HIPAA.Security"),
                ),
                "Platform::DataRetention": (
                    "Regenerable: the cluster's facts, rewritten on every deploy of this "
                    "stack; retaining it past the stack would only block re-creating it under "
                    "its name."
                ),
            },
        )


def platform_project(repository_url: str) -> dict[str, Any]:
    """The platform's Argo CD project: every cluster and namespace and kind (it installs the
    add-ons), but only from the GitOps repository and the add-ons' chart repositories."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PLATFORM_PROJECT, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": "The platform: add-ons, admission policies, the teams' namespaces",
            "sourceRepos": [repository_url, *PLATFORM_CHART_REPOSITORIES],
            "destinations": [
                {"server": "*", "namespace": "*"},
                {"name": "*", "namespace": "*"},
            ],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


def root_application(repository_url: str, revision: str, path: str) -> dict[str, Any]:
    """The app-of-apps: Argo CD syncs everything else from `path` in the repository."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "root",
            "namespace": ARGOCD_NAMESPACE,
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": PLATFORM_PROJECT,
            "source": {"repoURL": repository_url, "targetRevision": revision, "path": path},
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": ARGOCD_NAMESPACE,
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def in_cluster_secret(
    cluster_name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> dict[str, Any]:
    """Argo CD's cluster Secret for the cluster it runs on, carrying the bridge facts."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": cluster_name,
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "cluster", **labels},
            "annotations": dict(annotations),
        },
        "stringData": {
            "name": cluster_name,
            "server": "https://kubernetes.default.svc",
            "config": json.dumps({"tlsClientConfig": {"insecure": False}}),
        },
    }


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge Helm values: mappings merge, anything else in `override` wins."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
