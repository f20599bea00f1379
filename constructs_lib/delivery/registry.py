"""ContainerRegistry: the organisation's ECR repositories, pulled by the workload accounts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.data.safety import data_key

PULL_ACTIONS = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
)


class ContainerRegistry(Construct):
    """One ECR repository per name: images scanned on push, tags immutable, encrypted with a
    rotating CMK, retained when removed from the stack. Lifecycle: untagged images expire
    after `untagged_days`, tagged images beyond the newest `keep_images`.

    The repository policies let `pull_accounts` pull, and only while they belong to
    `organization_id`; the key lets them decrypt through ECR only.
    Exposes `repositories` (name -> Repository) and `key`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        repository_names: Sequence[str],
        pull_accounts: Sequence[str],
        organization_id: str,
        keep_images: int = 100,
        untagged_days: int = 14,
    ) -> None:
        super().__init__(scope, id_)
        if not repository_names:
            raise ValueError("repository_names: at least one; got none")
        in_organization = {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
        pullers = [iam.AccountPrincipal(account) for account in pull_accounts]
        self.key = data_key(
            self, "Key", description="Encrypts the container images", allow_data_loss=False
        )
        if pullers:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="PullThroughEcr",
                    principals=pullers,
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=["*"],
                    conditions={
                        **in_organization,
                        "StringLike": {"kms:ViaService": "ecr.*.amazonaws.com"},
                    },
                )
            )
        self.repositories: dict[str, ecr.Repository] = {}
        for name in repository_names:
            repository = ecr.Repository(
                self,
                f"Repository-{name.replace('/', '-')}",
                repository_name=name,
                image_scan_on_push=True,
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                encryption=ecr.RepositoryEncryption.KMS,
                encryption_key=self.key,
                removal_policy=RemovalPolicy.RETAIN,
                lifecycle_rules=[
                    ecr.LifecycleRule(
                        rule_priority=1,
                        description=f"untagged images expire after {untagged_days} days",
                        tag_status=ecr.TagStatus.UNTAGGED,
                        max_image_age=Duration.days(untagged_days),
                    ),
                    ecr.LifecycleRule(
                        rule_priority=2,
                        description=f"keep the newest {keep_images} images",
                        tag_status=ecr.TagStatus.ANY,
                        max_image_count=keep_images,
                    ),
                ],
            )
            if pullers:
                repository.add_to_resource_policy(
                    iam.PolicyStatement(
                        sid="OrganisationWorkloadsPull",
                        principals=pullers,
                        actions=list(PULL_ACTIONS),
                        conditions=in_organization,
                    )
                )
            self.repositories[name] = repository
