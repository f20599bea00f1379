"""TeamAccess: what one team gets in one account's cluster: a Pod Identity role granted exactly
its data, a role its External Secrets `SecretStore` assumes for its secrets path, and
namespace-scoped access entries for its people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.eks.pod_identity import ClusterPods, Grant, PodIdentity
from policies.wildcards import acknowledge_wildcards

EDIT_POLICY = "AmazonEKSEditPolicy"
"""EKS access policy like Kubernetes' `edit` role, scoped to namespaces here
(https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html)."""

SECRETS_READ = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")


@dataclass(frozen=True)
class TeamBucketAccess:
    """A prefix of one bucket; `key_arn` when the bucket is encrypted with a KMS key."""

    bucket_arn: str
    prefix: str
    read_only: bool = False
    key_arn: str | None = None


def _env(scope: Construct) -> tuple[str, str, str]:
    stack = Stack.of(scope)
    return stack.partition, stack.region, stack.account


def database_grant(scope: Construct, *, resource_id: str, user: str) -> Grant:
    """`rds-db:connect` as one database user
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html:
    `arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId or DbClusterResourceId>/<user>`)."""
    partition, region, account = _env(scope)
    return Grant(
        sid="ConnectAsTeamDatabaseUser",
        actions=["rds-db:connect"],
        resources=[f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"],
    )


def cache_grant(scope: Construct, *, replication_groups: Sequence[str], user: str) -> Grant:
    """`elasticache:Connect` names both the cache and the user
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html)."""
    partition, region, account = _env(scope)
    arn = f"arn:{partition}:elasticache:{region}:{account}"
    return Grant(
        sid="ConnectAsTeamCacheUser",
        actions=["elasticache:Connect"],
        resources=[
            *(f"{arn}:replicationgroup:{g}" for g in replication_groups),
            f"{arn}:user:{user}",
        ],
    )


def bucket_grants(scope: Construct, buckets: Sequence[TeamBucketAccess]) -> list[Grant]:
    """List under each prefix (`s3:prefix`), read (and unless read-only write and delete)
    objects under it, and use the buckets' key through S3 only."""
    _, region, _ = _env(scope)
    grants: list[Grant] = []
    for i, b in enumerate(buckets):
        grants.append(
            Grant(
                sid=f"ListPrefix{i}",
                actions=["s3:ListBucket"],
                resources=[b.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [b.prefix, f"{b.prefix}*"]}},
            )
        )
        actions = (
            ["s3:GetObject"]
            if b.read_only
            else [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            ]
        )
        grants.append(
            Grant(
                sid=f"ObjectsUnderPrefix{i}",
                actions=actions,
                resources=[f"{b.bucket_arn}/{b.prefix}*"],
                wildcard_reason=f"Objects under the team's prefix {b.prefix} only.",
            )
        )
    keys = sorted({b.key_arn for b in buckets if b.key_arn is not None})
    writes = any(not b.read_only for b in buckets if b.key_arn is not None)
    if keys:
        grants.append(
            Grant(
                sid="BucketKeyThroughS3",
                actions=["kms:Decrypt", *(["kms:GenerateDataKey"] if writes else [])],
                resources=keys,
                conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            )
        )
    return grants


def secrets_grants(scope: Construct, *, path: str, sid: str = "ReadTeamSecrets") -> list[Grant]:
    """Read the secrets under `path`, and decrypt them through Secrets Manager whichever key
    they use (the default `aws/secretsmanager`, or a customer key whose policy defers to
    IAM), only for secrets of that path: Secrets Manager passes the secret's ARN as the
    `SecretARN` encryption context
    (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html)."""
    partition, region, account = _env(scope)
    secrets = f"arn:{partition}:secretsmanager:{region}:{account}:secret:{path}*"
    return [
        Grant(
            sid=sid,
            actions=SECRETS_READ,
            resources=[secrets],
            wildcard_reason=f"Secrets Manager appends a random suffix to secret ARNs; the grant "
            f"covers the team's path {path} only.",
        ),
        Grant(
            sid=f"{sid}Key",
            actions=["kms:Decrypt"],
            resources=[f"arn:{partition}:kms:{region}:{account}:key/*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:SecretARN": secrets},
            },
            wildcard_reason="Team secrets may use any of the account's keys; decryption is "
            "allowed only through Secrets Manager and only for secrets of the team's path.",
        ),
    ]


class TeamAccess(Construct):
    """One team in one cluster.

    - `role`: a Pod Identity role (trusting `pods.eks.amazonaws.com` of this cluster and
      account only) bound to `service_account` in each of `namespaces`, with `grants` only.
    - `secrets_role`: assumable only by `secrets_reader_arn` (the cluster's External Secrets
      controller, for the team's `SecretStore`s), reading only `secrets_path`.
    - An access entry per owner in `owner_arns` with `AmazonEKSEditPolicy` on `namespaces`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        pods: ClusterPods,
        namespaces: Sequence[str],
        service_account: str,
        role_name: str,
        secrets_role_name: str,
        secrets_path: str,
        secrets_reader_arn: str,
        grants: Sequence[Grant] = (),
        owner_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        if not namespaces:
            raise ValueError(f"namespaces: {role_name} needs at least one; got none")
        partition, _, account = _env(self)
        self.role = PodIdentity(
            self,
            "Pods",
            pods=pods,
            namespace=namespaces[0],
            service_account=service_account,
            description=f"Pods of service account {service_account} in "
            f"{', '.join(namespaces)}: the team's data only",
            grants=[*grants, *secrets_grants(self, path=secrets_path)],
            create_association=False,
            role_name=role_name,
        ).role
        for namespace in namespaces:
            eks_l1.CfnPodIdentityAssociation(
                self,
                f"Association-{namespace}",
                cluster_name=pods.cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=self.role.role_arn,
            )
        self.secrets_role = iam.Role(
            self,
            "SecretsRole",
            role_name=secrets_role_name,
            description=f"External Secrets for the team's SecretStores: {secrets_path} only",
            # The controller's role by ARN in a condition, not as the principal: a replaced
            # controller role keeps working (a principal ARN would pin the old role's id).
            assumed_by=iam.AccountPrincipal(account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": secrets_reader_arn}}
            ),
        )
        read = secrets_grants(self, path=secrets_path, sid="ReadTeamSecrets")
        policy = iam.ManagedPolicy(
            self,
            "SecretsPolicy",
            description=f"Read {secrets_path} only",
            roles=[self.secrets_role],
            document=iam.PolicyDocument.from_json(
                {"Version": "2012-10-17", "Statement": [g.statement() for g in read]}
            ),
        )
        acknowledge_wildcards(policy, {g.sid: g.wildcard_reason for g in read if g.wildcard_reason})
        edit = f"arn:{partition}:eks::aws:cluster-access-policy/{EDIT_POLICY}"
        for arn in owner_arns:
            eks_l1.CfnAccessEntry(
                self,
                f"Owner-{arn.rsplit('/', 1)[-1]}",
                cluster_name=pods.cluster_name,
                principal_arn=arn,
                type="STANDARD",
                access_policies=[
                    eks_l1.CfnAccessEntry.AccessPolicyProperty(
                        policy_arn=edit,
                        access_scope=eks_l1.CfnAccessEntry.AccessScopeProperty(
                            type="namespace", namespaces=list(namespaces)
                        ),
                    )
                ],
            )
