"""PipelineStack: the self-mutating CDK Pipeline that promotes a commit to production."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from aws_cdk import (
    Duration,
    Environment,
    PermissionsBoundary,
    RemovalPolicy,
    Stack,
    Stage,
    Tags,
    pipelines,
)
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from config.deploy_path import (
    FILE_ASSETS,
    IMAGE_ASSETS,
    PIPELINE,
    SELF_MUTATION,
    protect_purpose,
    review_purpose,
)
from constructs_lib.operations.notification import ChatChannel, ChatChannels
from constructs_lib.shared.access_logs import AccessLogsBucket, expiry_rule
from constructs_lib.shared.encryption import platform_key
from facts.cdk import CDK_QUALIFIER, PERMISSIONS_BOUNDARY_NAME
from pipelines.generated_grants import acknowledge_generated_grants, reviewed_shapes
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_wildcards

SYNTH_COMMANDS = ("make test", "make synth")
"""The README's two commands: a failing test or policy finding stops the pipeline here."""

RUNTIME_PACKAGES = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
    "dnspython",
)
"""What `runtime/` needs (boto3 and its dependencies, dnspython), taken from the lock."""
HEALTH_CHECK_INSTALL = (
    # Only these packages, at the locked versions and hashes, not the full setup: awk keeps
    # each one's requirement line and its --hash lines.
    "awk '/^[A-Za-z]/ {keep = $1 ~ /^("
    + "|".join(RUNTIME_PACKAGES)
    + ")==/} keep' requirements.lock > /tmp/runtime.lock && "
    "python -m pip install --quiet --no-deps --require-hashes -r /tmp/runtime.lock"
)
"""What the pipeline's own runtime steps (health gate, termination protection) install."""
NODE_INSTALL = "npm ci --no-audit --no-fund --loglevel=error"
"""The CDK CLI at the version package-lock.json pins (the review step's `cdk diff`)."""


ARTIFACT_RETENTION = Duration.days(90)
"""Artifacts (and their access logs) older than this are deleted; Git is the source."""
ARTIFACT_KEY_TAG = ("platform.io/pipeline-artifacts", "true")
"""Marks the pipeline's artifact keys (one per region); its role may use no other key."""


@dataclass(frozen=True)
class Deployment:
    """One stage in a wave, and what guards it."""

    stage: Stage
    health_check_role_arn: str | None = None
    """When set, the health gate assumes this role after the stage deploys."""
    soak_minutes: int = 0
    """How long the health gate watches the stage's alarms before its final check."""
    alarm_regions: tuple[str, ...] = ()
    """The stage's other regions, whose alarms the health gate reads too."""
    review_role_arn: str | None = None
    """The stage's read-only review role: the wave's review step diffs through it."""


@dataclass(frozen=True)
class PromotionWave:
    """Stages deployed in parallel; the next wave starts when all of them (and their gates)
    have succeeded."""

    name: str
    deployments: Sequence[Deployment]
    check_delegation_of: str | None = None
    """A parent zone whose registrar delegation is checked before the wave starts (the first
    wave whose certificates validate in subzones of it)."""
    approval: bool = False
    """Before anything deploys, a review step prints every stack's diff (and its IAM and
    security-group changes) and one person approves the whole wave."""
    confirm_broadening: bool = False
    """Before each stage deploys, `cdk diff --security-only` runs; a change that broadens
    IAM permissions waits for a person's approval (CDK's ConfirmPermissionsBroadening)."""


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
        role_prefix: str,
        notification_emails: Sequence[str] = (),
        chat_channels: Mapping[str, ChatChannel] = MappingProxyType({}),
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
        :param role_prefix: the names of the roles that reach into other accounts are this
            prefix plus their purpose (`config.deploy_path`): the target accounts' bootstrap
            roles trust exactly these names.
        :param notification_emails: subscribed to the topic; default none.
        :param chat_channels: chat channels (AWS Chatbot, read-only) the topic posts to, by
            name; default none.
        :param replication: the artifact buckets of every region a stage deploys to other
            than this stack's; default none.
        """
        super().__init__(
            scope,
            id_,
            env=env,
            description=description,
            termination_protection=True,
            permissions_boundary=PermissionsBoundary.from_name(PERMISSIONS_BOUNDARY_NAME),
            # Its template grows with every account and region the pipeline deploys to; without
            # indentation it is about half of CloudFormation's 1 MB with 36 accounts (84% indented).
            suppress_template_indentation=True,
        )
        if not waves:
            raise ValueError("waves: at least one wave is required; got none")
        self.source = pipelines.CodePipelineSource.connection(
            repository, branch, connection_arn=connection_arn
        )
        self.artifact_key = platform_key(
            self,
            "ArtifactsKey",
            description="Encrypts pipeline artifacts; the target accounts' deploy roles decrypt",
        )
        self.artifact_bucket = artifact_bucket(
            self, key=self.artifact_key, access_logs_id="ArtifactsAccessLogs"
        )
        self.role_prefix = role_prefix
        self.cli_version = cli_version
        self.topic = self._topic(notification_emails)
        ChatChannels(
            self,
            "Chat",
            name_prefix=f"{role_prefix.rstrip('-')}-notifications",
            channels=chat_channels,
            topic_arns=[self.topic.topic_arn],
        )
        self.synth = pipelines.ShellStep(
            "Synth",
            input=self.source,
            env={"CI": "true"},
            commands=list(SYNTH_COMMANDS),
            primary_output_directory="cdk.out",
        )
        self.pipeline = self._pipeline(cli_version, replication, assets_version)
        self.health_check_role = self._health_check_role(health_check_role_name, waves)
        self._after_build: list[Callable[[], None]] = []
        for wave in waves:
            self._add_wave(wave)
        self.pipeline.build_pipeline()
        for step in self._after_build:
            step()
        self._name_cross_account_roles()
        self._scope_asset_builds()
        self._only_artifact_keys()
        self._notify(self.topic)
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
            synth=self.synth,
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

    def _scope_asset_builds(self) -> None:
        """CDK Pipelines lets its asset-publishing role start, stop and read builds of any
        CodeBuild project ("*"). A build can be started with a buildspec override, which
        would run as that project's role (the protection steps' may assume deploy roles):
        scope the statement to the asset projects that role runs."""
        for role in self.node.find_all():
            if not isinstance(role, iam.Role) or not role.node.path.endswith("/Assets/FileRole"):
                continue
            role_arn = self.resolve(role.role_arn)  # once: each read is a jsii round trip
            projects = [
                project.attr_arn
                for project in self.node.find_all()
                if isinstance(project, codebuild.CfnProject)
                and self.resolve(project.service_role) == role_arn
            ]
            policy = role.node.try_find_child("DefaultPolicy")
            cfn = policy.node.default_child if policy is not None else None
            assert isinstance(cfn, iam.CfnPolicy) and projects
            # The document is complete once CDK Pipelines has built; what cdk-nag and the
            # template read is this resolved copy, not a property override.
            document = self.resolve(cfn.policy_document)
            for statement in document["Statement"]:
                if "codebuild:StartBuild" in statement["Action"] and statement["Resource"] == "*":
                    statement["Resource"] = [self.resolve(arn) for arn in projects]
            cfn.policy_document = document

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
        projects = [c for c in self.node.find_all() if isinstance(c, codebuild.CfnProject)]
        # one resolve for all of them: each is a jsii round trip
        sources = self.resolve([project.source for project in projects])
        for project, source in zip(projects, sources, strict=True):
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
        if wave.approval or wave.confirm_broadening:
            approve = pipelines.ManualApprovalStep(
                f"Approve-{wave.name}",
                comment=(
                    f"Read the Review-{wave.name} action's log: the diff of every stack of the "
                    f"{wave.name} wave against what is deployed, then its IAM and "
                    "security-group changes. Approve to deploy all of them; reject to stop."
                    if wave.approval
                    else f"Review-{wave.name} found IAM or security-group changes that "
                    "broaden access (or could not tell): read its log, then approve or "
                    "reject. Without such changes the review approves by itself."
                ),
            )
            review = self._review_step(wave, approval_action=None if wave.approval else approve)
            if wave.approval:
                approve.add_step_dependency(review)  # the person sees the diff first
            pipeline_wave.add_pre(review, approve)
        for deployment in wave.deployments:
            stage = deployment.stage
            stacks = [child for child in stage.node.children if isinstance(child, Stack)]
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
                        f"--region {stage.region} "
                        f"--soak-minutes {deployment.soak_minutes}"
                        + "".join(
                            f" --alarm-regions {r}" if i == 0 else f" {r}"
                            for i, r in enumerate(deployment.alarm_regions)
                        )
                    ],
                    # CodeBuild's default is 60 minutes; the soak may be up to 120
                    timeout=Duration.minutes(deployment.soak_minutes + 30),
                )
                if protect is not None:
                    gate.add_step_dependency(protect)  # the gate is the wave's last word
                post.append(gate)
            pipeline_wave.add_stage(stage, post=post)

    def _review_step(
        self, wave: PromotionWave, *, approval_action: pipelines.ManualApprovalStep | None
    ) -> pipelines.CodeBuildStep:
        """Prints, before anything of the wave deploys, each stack's template diff against
        what is deployed and the IAM and security-group changes that broaden access
        (`runtime.review`, the pinned CDK CLI), reading through each account's read-only
        review role. Template diffs, not change sets: a dependent stack's change set cannot
        be made before the stacks it depends on have deployed (docs/promotion.md).

        With `approval_action` (which runs beside it), the review approves that action itself
        only when every stack was diffed and nothing broadens, and leaves it to a person
        otherwise (`runtime.review`)."""
        targets = [d for d in wave.deployments if d.review_role_arn]
        role = iam.Role(
            self,
            f"Review{wave.name.title().replace('-', '')}Role",
            role_name=self.role_prefix + review_purpose(wave.name),
            description=f"Runs the {wave.name} review: may only assume the accounts' review roles",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        )
        statements = [
            iam.PolicyStatement(
                sid="AssumeReviewRoles",
                actions=["sts:AssumeRole"],
                resources=[d.review_role_arn for d in targets if d.review_role_arn],
            )
        ]
        command = "python -m runtime.review --assembly cdk.out " + " ".join(
            f"--target {d.stage.stage_name}={d.review_role_arn}" for d in targets
        )
        policy = iam.ManagedPolicy(
            self,
            f"Review{wave.name.title().replace('-', '')}Policy",
            description=f"Read the {wave.name} accounts' stacks through their review roles",
            roles=[role],
            statements=statements,
        )
        if approval_action is not None:
            command += f" --approve-unless-broadening {approval_action.id}"
            # The pipeline's name exists once CDK Pipelines has built it.
            self._after_build.append(
                lambda: policy.add_statements(
                    iam.PolicyStatement(
                        sid="ApproveWhenNothingBroadens",
                        actions=["codepipeline:GetPipelineState", "codepipeline:PutApprovalResult"],
                        resources=[
                            self._pipeline_arn(),
                            self._pipeline_arn(
                                self._action_path(
                                    approval_action.id,
                                    # the wave's pipeline stage, or its one stage's
                                    (wave.name, *(d.stage.stage_name for d in wave.deployments)),
                                )
                            ),
                        ],
                    )
                )
            )
        return pipelines.CodeBuildStep(
            f"Review-{wave.name}",
            input=self.source,
            additional_inputs={"cdk.out": self.synth},
            role=role,
            install_commands=[HEALTH_CHECK_INSTALL, NODE_INSTALL],
            commands=[command],
        )

    def _action_path(self, action_name: str, stage_names: Sequence[str]) -> str:
        """`stage/action` of an action of the built pipeline, looked for in the pipeline
        stages named `stage_names` (a one-stage wave's stage is named after its stage, not the
        wave). Each name and action read is a jsii round trip: reading every action of the
        pipeline took about 430 of them per lookup."""
        for stage in self.pipeline.pipeline.stages:
            name = stage.stage_name
            if name in stage_names and any(
                action.action_properties.action_name == action_name for action in stage.actions
            ):
                return f"{name}/{action_name}"
        raise ValueError(f"no action {action_name!r} in the pipeline stages {list(stage_names)}")

    def _pipeline_arn(self, path: str = "") -> str:
        """The pipeline's ARN, or with `path` (`stage/action`) an action's."""
        name = self.pipeline.pipeline.pipeline_name
        return self.format_arn(service="codepipeline", resource=name + (f"/{path}" if path else ""))

    def _name_cross_account_roles(self) -> None:
        """Give the roles CDK Pipelines makes that assume other accounts' bootstrap roles the
        names those roles trust (`config.deploy_path`): CodePipeline's own role (CloudFormation
        actions), the asset-publishing roles and self-mutation's."""
        by_path = {
            "Pipeline/Pipeline/Role": PIPELINE,
            "Pipeline/UpdatePipeline/SelfMutation/Role": SELF_MUTATION,
            "Pipeline/Assets/FileRole": FILE_ASSETS,
            "Pipeline/Assets/DockerRole": IMAGE_ASSETS,
        }
        for role in self.node.find_all():
            if not isinstance(role, iam.Role):
                continue
            purpose = by_path.get(role.node.path.split("/", 1)[1])
            if purpose is not None:
                cfn = role.node.default_child
                assert isinstance(cfn, iam.CfnRole)
                cfn.role_name = self.role_prefix + purpose

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
        role = iam.Role(
            self,
            f"Protect{stage.stage_name.title().replace('-', '')}Role",
            role_name=self.role_prefix + protect_purpose(stage.stage_name),
            description=f"Turns on termination protection in {stage.stage_name}: may only "
            "assume that account's CDK deploy role",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=roles)
        )
        return pipelines.CodeBuildStep(
            f"Protect-{stage.stage_name}",
            input=self.source,
            install_commands=[HEALTH_CHECK_INSTALL],
            commands=commands,
            role=role,
        )

    def _topic(self, emails: Sequence[str]) -> sns.Topic:
        key = platform_key(self, "NotificationsKey", description="Encrypts pipeline notifications")
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
        return topic

    def _notify(self, topic: sns.Topic) -> None:
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
        super().__init__(
            scope,
            id_,
            env=env,
            description=description,
            termination_protection=True,
            permissions_boundary=PermissionsBoundary.from_name(PERMISSIONS_BOUNDARY_NAME),
        )
        self.artifact_bucket_name = bucket_name
        key = platform_key(
            self,
            "Key",
            description="Encrypts pipeline artifacts in this region; deploy roles decrypt",
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
