"""PodIdentity: one Kubernetes service account's AWS role, bound with EKS Pod Identity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_iam as iam
from constructs import Construct

from policies.acknowledgements import acknowledge
from policies.wildcards import acknowledge_wildcards, aws_managed_policy_finding


@dataclass(frozen=True)
class Grant:
    """One statement of a pod role's policy (Allow unless `deny`) and, if an Allow must use a
    wildcard, why that is the narrowest form. Plain data: the role's policy goes to CDK as one
    document, not one `PolicyStatement` (a jsii round trip each) per grant."""

    sid: str
    actions: Sequence[str]
    resources: Sequence[str]
    conditions: Mapping[str, Mapping[str, Any]] | None = None
    wildcard_reason: str | None = None
    deny: bool = False

    def statement(self) -> dict[str, Any]:
        """The statement as IAM policy JSON."""
        statement: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Deny" if self.deny else "Allow",
            "Action": list(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            statement["Condition"] = self.conditions
        return statement


def pods_of(scope: Construct, cluster_arn: str) -> iam.IPrincipal:
    """EKS Pod Identity as a principal: pods of this one cluster in this account (the
    conditions stop another account's or cluster's agent from assuming the role)."""
    return iam.SessionTagsPrincipal(
        iam.ServicePrincipal("pods.eks.amazonaws.com").with_conditions(
            {
                "StringEquals": {"aws:SourceAccount": Stack.of(scope).account},
                "ArnEquals": {"aws:SourceArn": cluster_arn},
            }
        )
    )


@dataclass(frozen=True)
class ClusterPods:
    """The pods of one cluster as `PodIdentity` needs them: the cluster's name (for the
    association) and the principal its pod roles trust (`pods_of`). Built once per cluster by
    `cluster_pods` and shared by all its pod roles, instead of one principal (five jsii round
    trips) per role."""

    cluster_name: str
    principal: iam.IPrincipal


def cluster_pods(scope: Construct, *, cluster_name: str, cluster_arn: str) -> ClusterPods:
    return ClusterPods(cluster_name, pods_of(scope, cluster_arn))


class PodIdentity(Construct):
    """An IAM role only pods of one service account in one cluster can assume, its customer-
    managed policy, and the Pod Identity association that binds them.

    The trust admits `pods.eks.amazonaws.com` for this account and this cluster only.
    Wildcards in a grant are acknowledged with the grant's own reason (and only those).
    Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        pods: ClusterPods,
        namespace: str,
        service_account: str,
        description: str,
        grants: Sequence[Grant] = (),
        aws_managed_policy: str | None = None,
        aws_managed_policy_reason: str | None = None,
        create_association: bool = True,
        role_name: str | None = None,
    ) -> None:
        """
        :param pods: the cluster whose pods may assume the role (`cluster_pods`).
        :param grants: the role's permissions, each a statement with a unique Sid.
        :param aws_managed_policy: name of an AWS-managed policy to attach instead of, or as
            well as, grants (for add-ons whose policy AWS maintains with the add-on).
        :param create_association: False when an EKS add-on binds the role itself.
        :param role_name: a fixed name, when something outside the stack names the role;
            default CloudFormation's.
        """
        super().__init__(scope, id_)
        if aws_managed_policy and not aws_managed_policy_reason:
            raise ValueError("aws_managed_policy_reason: say why the AWS-managed policy is used")
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=description,
            assumed_by=pods.principal,
        )
        if aws_managed_policy:
            self.role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name(aws_managed_policy)
            )
            acknowledge(
                self.role, aws_managed_policy_finding(aws_managed_policy), aws_managed_policy_reason
            )
        if grants:
            policy = iam.ManagedPolicy(
                self,
                "Policy",
                description=description,
                roles=[self.role],
                document=iam.PolicyDocument.from_json(
                    {"Version": "2012-10-17", "Statement": [g.statement() for g in grants]}
                ),
            )
            acknowledge_wildcards(
                policy, {g.sid: g.wildcard_reason for g in grants if g.wildcard_reason}
            )
        if create_association:
            eks_l1.CfnPodIdentityAssociation(
                self,
                "Association",
                cluster_name=pods.cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=self.role.role_arn,
            )
