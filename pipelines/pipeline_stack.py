"""PipelineStack: the self-mutating CDK Pipeline that promotes a commit to production."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Environment, RemovalPolicy, Stack, Stage, Tags, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.shared.access_logs import AccessLogsBucket, expiry_rule
from facts.cdk import CDK_QUALIFIER
from pipelines.generated_grants import acknowledge_generated_grants, reviewed_shapes
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_wildcards

SYNTH_COMMANDS = ("make test", "make synth")
"""The README's two commands: a failing test or policy finding stops the pipeline here."""

HEALTH_CHECK_INSTALL = (
    # Only boto3 and dnspython (at the locked versions) are needed, not the full setup.
    "python -m pip install --quiet "
    '$(grep -E "^(boto3|botocore|s3transfer|dnspython)==" requirements.lock)'
)
"""What the pipeline's own runtime steps (health gate, termination protection) install."""


ARTIFACT_RETENTION = Duration.days(90)
"""Artifacts (and their access logs) older than this are deleted; Git is the source."""
ARTIFACT_KEY_TAG = ("platform.io/pipeline-artifacts", "true")
"""Marks the pipeline's artifact keys (one per region); its role may use no other key."""


@dataclass(frozen=True)
class Deployment:
    """One stage in a wave, and what guards it."""

    stage: Stage
    approval: bool = False
    """Each stack's change set waits for a person to approve it before it executes."""
    health_check_role_arn: str | None = None
    """When set, the health gate assumes this role after the stage deploys."""


@dataclass(frozen=True)
class PromotionWave:
    """Stages deployed in parallel; the next wave starts when all of them (and their gates)
    have succeeded."""

    name: str
    deployments: Sequence[Deployment]
    check_delegation_of: str | None = None
    """A parent zone whose registrar delegation is checked before the wave starts (the first
    wave whose certificates validate in subzones of it)."""


class PipelineStack(Stack):
    """A CodePipeline (V2) built with CDK Pipelines, sourced from one branch of one repository.

    Source (CodeConnections) -> Synth (`make test`, `make synth`; tests and the policy gate
    stop a bad commit) -> UpdatePipeline (self-mutation) -> asset publishing -> one stage per
    wave, in order. Artifacts live in a versioned, access-logged bucket encrypted with a
    rotating KMS key that the target accounts' deploy roles may use. Failures, approvals
    waiting and successes go to an encrypted SNS topic, ready for AWS Chatbot or e-mail.
    Exposes `pipeline`, `source`, `topic` and `health_check_role`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env: Environment,
        description: str,
        repository: str,
        branch: str,
        connection_arn: str,
        cli_version: str,
        waves: Sequence[PromotionWave],
        health_check_role_name: str,
        notification_emails: Sequence[str] = (),
        replication: Sequence[ReplicationBucketStack] = (),
        assets_version: str | None = None,
    ) -> None:
        """
        :param repository: `owner/name` of the Git repository.
        :param branch: every commit to it is promoted.
        :param connection_arn: the CodeConnections connection to the Git host.
        :param cli_version: the CDK CLI version self-mutation uses (keep it the version
            package.json pins).
        :param assets_version: the cdk-assets version the asset-publishing steps install;
            default CDK Pipelines' `@latest` (pass package.json's pin).
        :param waves: the promotion order.
        :param health_check_role_name: the name of the role health-gate steps run as; the
            environments' read-only roles trust exactly this name.
        :param notification_emails: subscribed to the topic; default none.
        :param replication: the artifact buckets of every region a stage deploys to other
            than this stack's; default none.
        """
        super().__init__(scope, id_, env=env, description=description, termination_protection=True)
        if not waves:
            raise ValueError("waves: at least one wave is required; got none")
        self.source = pipelines.CodePipelineSource.connection(
            repository, branch, connection_arn=connection_arn
        )
        self.artifact_key = kms.Key(
            self,
            "ArtifactsKey",
            description="Encrypts pipeline artifacts; the target accounts' deploy roles decrypt",
            enable_key_rotation=True,
        )
        self.artifact_bucket = artifact_bucket(
            self, key=self.artifact_key, access_logs_id="ArtifactsAccessLogs"
        )
        self.pipeline = self._pipeline(cli_version, replication, assets_version)
        self.health_check_role = self._health_check_role(health_check_role_name, waves)
        for wave in waves:
            self._add_wave(wave)
        self.pipeline.build_pipeline()
        self._only_artifact_keys()
        self.topic = self._notifications(notification_emails)
        self._acknowledge_codepipeline_sources()
        self._acknowledge_generated_grants(replication)

    def _pipeline(
        self,
        cli_version: str,
        replication: Sequence[ReplicationBucketStack],
        assets_version: str | None,
    ) -> pipelines.CodePipeline:
        """The CDK Pipeline: synth runs the README's two commands, self-mutation on, one
        artifact bucket per region."""
        return pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=pipelines.ShellStep(
                "Synth",
                input=self.source,
                env={"CI": "true"},
                commands=list(SYNTH_COMMANDS),
                primary_output_directory="cdk.out",
            ),
            # One bucket per region; this region's is the artifact bucket. Cross-account use
            # of their keys is granted to the target accounts' deploy roles.
            cross_region_replication_buckets={
                self.region: self.artifact_bucket,
                **{support.region: support.bucket for support in replication},
            },
            self_mutation=True,
            cli_version=cli_version,
            cdk_assets_cli_version=assets_version,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                ),
                timeout=Duration.minutes(30),
            ),
        )

    def _health_check_role(self, role_name: str, waves: Sequence[PromotionWave]) -> iam.Role:
        """The role health-gate steps run as: it may assume each gated environment's read-only
        role and nothing else."""
        role = iam.Role(
            self,
            "HealthCheckRole",
            role_name=role_name,
            description="Runs the health gate: may only assume the environments' read roles",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        )
        targets = [
            d.health_check_role_arn for w in waves for d in w.deployments if d.health_check_role_arn
        ]
        if targets:
            iam.ManagedPolicy(
                self,
                "HealthCheckPolicy",
                description="Assume the read-only health-check role of each gated environment",
                roles=[role],
                statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=targets)],
            )
        return role

    def _only_artifact_keys(self) -> None:
        """CDK can name a key in another region only by alias, which IAM cannot, so its grant
        on those keys reads "*": deny every key that is not tagged as ours."""
        Tags.of(self.artifact_key).add(*ARTIFACT_KEY_TAG)
        self.pipeline.pipeline.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="OnlyArtifactKeys",
                effect=iam.Effect.DENY,
                actions=["kms:*"],
                resources=["*"],
                conditions={"StringNotEquals": {f"aws:ResourceTag/{ARTIFACT_KEY_TAG[0]}": "true"}},
            )
        )

    def _acknowledge_generated_grants(self, replication: Sequence[ReplicationBucketStack]) -> None:
        """The wildcards CDK Pipelines writes into its roles' default policies, shape by
        reviewed shape (see `pipelines.generated_grants`)."""
        acknowledge_generated_grants(
            self,
            reviewed_shapes(
                artifact_bucket=self.get_logical_id(self.artifact_bucket.node.default_child),
                artifact_key=self.get_logical_id(self.artifact_key.node.default_child),
                replication_buckets=[support.artifact_bucket_name for support in replication],
            ),
            inline_reason="Default policy CDK Pipelines generates for its own role from CDK's "
            "grant methods; it changes with the pipeline's structure, which self-mutation "
            "keeps in step, so a separately managed policy would drift.",
        )

    def _acknowledge_codepipeline_sources(self) -> None:
        """HIPAA/PCI CodeBuildProjectSourceRepoUrl looks for OAuth on a repository URL; these
        projects have none: CodePipeline hands them the source it fetched through the
        CodeConnections connection (an OAuth app), so no credential is in any project.

        The projects exist only once `build_pipeline` has run; one `find_all` lists them (an
        aspect would cost a call back into Python per construct of the stack, see
        `acknowledge_generated_grants`)."""
        for project in self.node.find_all():
            if not isinstance(project, codebuild.CfnProject):
                continue
            source = self.resolve(project.source)
            if source.get("type", source.get("Type")) == "CODEPIPELINE":
                acknowledge_control(
                    project,
                    "CodeBuildProjectSourceRepoUrl",
                    "The project's source is the artifact CodePipeline fetched through the "
                    "CodeConnections connection (an OAuth app); no repository URL or "
                    "credential is configured on the project.",
                    packs=("HIPAA.Security", "PCI.DSS.321"),
                )

    def _add_wave(self, wave: PromotionWave) -> None:
        pipeline_wave = self.pipeline.add_wave(wave.name)
        if wave.check_delegation_of is not None:
            pipeline_wave.add_pre(self._delegation_step(wave.check_delegation_of))
        for deployment in wave.deployments:
            stage = deployment.stage
            stacks = [child for child in stage.node.children if isinstance(child, Stack)]
            stack_steps = [
                pipelines.StackSteps(
                    stack=stack,
                    change_set=[
                        pipelines.ManualApprovalStep(
                            f"Approve-{stack.stack_name}",
                            comment=f"Review the change set of {stack.stack_name} in the "
                            "CloudFormation console, then approve to execute it.",
                        )
                    ],
                )
                for stack in stacks
                if deployment.approval
            ]
            post = []
            protect = self._protection_step(stage, stacks)
            if protect is not None:
                post.append(protect)
            if deployment.health_check_role_arn:
                gate = pipelines.CodeBuildStep(
                    f"HealthCheck-{stage.stage_name}",
                    input=self.source,
                    role=self.health_check_role,
                    install_commands=[HEALTH_CHECK_INSTALL],
                    commands=[
                        "python -m runtime.health_check "
                        f"--role-arn {deployment.health_check_role_arn} "
                        f"--region {stage.region}"
                    ],
                )
                if protect is not None:
                    gate.add_step_dependency(protect)  # the gate is the wave's last word
                post.append(gate)
            pipeline_wave.add_stage(stage, stack_steps=stack_steps, post=post)

    def _delegation_step(self, zone: str) -> pipelines.CodeBuildStep:
        """Fails, naming the name servers to set at the registrar, until the registrar
        delegates `zone` to its Route 53 zone (`runtime.dns_delegation`): a stop with the fix
        in the message instead of certificates waiting for validation."""
        role = iam.Role(
            self,
            "DnsDelegationRole",
            description="Runs the registrar delegation check: reads Route 53 zones, nothing else",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        )
        policy = iam.ManagedPolicy(
            self,
            "DnsDelegationPolicy",
            description="Find the parent zone and read its name servers",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="FindZoneByName",
                    actions=["route53:ListHostedZonesByName"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="ReadNameServers",
                    actions=["route53:GetHostedZone"],
                    resources=[f"arn:{self.partition}:route53:::hostedzone/*"],
                ),
            ],
        )
        acknowledge_wildcards(
            policy,
            {
                "FindZoneByName": "route53:ListHostedZonesByName has no resource-level "
                "permissions (the Service Authorization Reference lists no resource type); it "
                "only lists zone names and ids.",
                "ReadNameServers": "The parent zone's id is assigned when shared-services/Dns "
                "deploys, after this pipeline is synthesized; GetHostedZone only reads a zone's "
                "name servers.",
            },
        )
        return pipelines.CodeBuildStep(
            "DnsDelegation",
            input=self.source,
            role=role,
            install_commands=[HEALTH_CHECK_INSTALL],
            commands=[f"python -m runtime.dns_delegation --zone {zone}"],
        )

    def _protection_step(
        self, stage: Stage, stacks: Sequence[Stack]
    ) -> pipelines.CodeBuildStep | None:
        """Termination protection for the stage's protected stacks, which CDK Pipelines does
        not apply itself (aws-cdk#17871): one step per stage and region, through the target
        account's CDK deploy role (`runtime.protect_stacks`)."""
        protected = [s for s in stacks if s.termination_protection]
        if not protected:
            return None
        by_region: dict[str, list[Stack]] = {}
        for stack in protected:
            by_region.setdefault(stack.region, []).append(stack)
        commands, roles = [], []
        for region, in_region in sorted(by_region.items()):
            role = deploy_role_arn(stage.account, region)
            roles.append(role)
            names = " ".join(f"--stack {stack.stack_name}" for stack in in_region)
            commands.append(
                f"python -m runtime.protect_stacks --role-arn {role} --region {region} {names}"
            )
        return pipelines.CodeBuildStep(
            f"Protect-{stage.stage_name}",
            input=self.source,
            install_commands=[HEALTH_CHECK_INSTALL],
            commands=commands,
            role_policy_statements=[
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=roles)
            ],
        )

    def _notifications(self, emails: Sequence[str]) -> sns.Topic:
        key = kms.Key(
            self,
            "NotificationsKey",
            description="Encrypts pipeline notifications",
            enable_key_rotation=True,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCodeStarNotificationsViaSns",
                principals=[iam.ServicePrincipal("codestar-notifications.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.region}.amazonaws.com"}},
            )
        )
        topic = sns.Topic(
            self,
            "Notifications",
            display_name="Platform pipeline",
            master_key=key,
            enforce_ssl=True,
        )
        for email in emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        self.pipeline.pipeline.notify_on(
            "NotifyOnFailureAndApproval",
            topic,
            events=[
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
                codepipeline.PipelineNotificationEvents.ACTION_EXECUTION_FAILED,
                codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_SUCCEEDED,
            ],
            detail_type=notifications.DetailType.FULL,
        )
        return topic


class ReplicationBucketStack(Stack):
    """The pipeline's artifact bucket in another region (CodePipeline runs a region's deploy
    actions from a bucket there): KMS-encrypted with a rotating key, versioned,
    access-logged, expiring like the main artifact bucket.

    The pipeline stack lives in another region and may not refer to this stack's tokens, so
    the bucket and the key's alias have deterministic names (`bucket_name`, `key_alias`).
    Exposes `bucket` and its `artifact_bucket_name`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env: Environment,
        description: str,
        bucket_name: str,
        key_alias: str,
    ) -> None:
        super().__init__(scope, id_, env=env, description=description, termination_protection=True)
        self.artifact_bucket_name = bucket_name
        key = kms.Key(
            self,
            "Key",
            description="Encrypts pipeline artifacts in this region; deploy roles decrypt",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        Tags.of(key).add(*ARTIFACT_KEY_TAG)
        alias = kms.Alias(self, "KeyAlias", alias_name=key_alias, target_key=key)
        self.bucket = artifact_bucket(
            self, key=alias, access_logs_id="AccessLogs", bucket_name=bucket_name
        )


def deploy_role_arn(account: str, region: str) -> str:
    """The CDK bootstrap's deploy role in `account` and `region` (the one CDK Pipelines'
    CloudFormation actions assume there)."""
    return f"arn:aws:iam::{account}:role/cdk-{CDK_QUALIFIER}-deploy-role-{account}-{region}"


def artifact_bucket(
    scope: Construct, *, key: kms.IKey, access_logs_id: str, bucket_name: str | None = None
) -> s3.Bucket:
    """A pipeline artifact bucket ("Artifacts"): KMS with `key`, versioned, TLS only,
    access-logged, expiring after ARTIFACT_RETENTION, retained."""
    bucket = s3.Bucket(
        scope,
        "Artifacts",
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        versioned=True,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=AccessLogsBucket(
            scope, access_logs_id, expire_after=ARTIFACT_RETENTION
        ),
        lifecycle_rules=[expiry_rule(ARTIFACT_RETENTION, noncurrent_after=Duration.days(30))],
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge_control(
        bucket,
        "S3BucketReplicationEnabled",
        "Pipeline artifacts are rebuilt from Git by the next execution and expire after "
        f"{ARTIFACT_RETENTION.to_days()} days; a second-region copy would protect nothing.",
    )
    return bucket
