"""PlatformSearch: an OpenSearch Service domain inside the VPC."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from constructs_lib.data.safety import clients_only, data_key, removal_policy, service_log_group
from constructs_lib.shared.encryption import log_group_key
from facts.aws import SEARCH_NAME_MAX as MAX_NAME
from policies.acknowledgements import acknowledge

LOG_TYPES = ("slow-search", "slow-index", "application", "audit")


class PlatformSearch(Construct):
    """An OpenSearch domain only the cluster's pods reach, over HTTPS (TLS 1.2+).

    - VPC domain in the isolated subnets of `availability_zone_count` AZs, zone awareness on
      with more than one data node; dedicated masters when configured (prod).
    - Node-to-node encryption, at rest with a rotating CMK, gp3 storage.
    - Fine-grained access control with an IAM master role (`<name>-admin`, assumable in this
      account by principals whose IAM policy allows it); the domain policy admits this
      account's principals only, and FGAC decides what each may do.
    - Slow search/index, application and audit logs to encrypted CloudWatch log groups, the
      resource policy written here for exactly those groups (no custom resource).
    - Retained when the stack deletes or replaces it, unless `allow_data_loss`.

    Exposes `domain`, `admin_role`, `security_group` and `endpoint`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        version: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        availability_zone_count: int,
        clients: ec2.ISecurityGroup,
        data_node_type: str,
        data_nodes: int,
        volume_gib: int,
        dedicated_masters: int = 0,
        master_node_type: str = "m7g.large.search",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        allow_data_loss: bool = False,
        create_service_linked_role: bool = True,
    ) -> None:
        """
        :param name: the domain name (3-28 characters, deterministic).
        :param version: "OpenSearch_<major>.<minor>".
        :param subnets: isolated subnets; one per AZ used is picked.
        :param availability_zone_count: 2 or 3; ignored with one data node.
        :param clients: the only security group admitted on 443 (the cluster's).
        :param dedicated_masters: 0, 3 or 5.
        :param allow_data_loss: sandbox's opt-in: deleted with the stack.
        :param create_service_linked_role: create `AWSServiceRoleForAmazonOpenSearchService`,
            which a domain in a VPC needs and CloudFormation does not create
            (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr.html);
            False where the account already has it (a second one fails). Retained: other
            domains of the account may use it.
        """
        super().__init__(scope, id_)
        zones = min(availability_zone_count, data_nodes)
        _validate(name, zones, data_nodes, dedicated_masters)
        self.key = data_key(
            self,
            "Key",
            description=f"Encrypts OpenSearch domain {name}",
            allow_data_loss=allow_data_loss,
        )
        self.security_group = clients_only(
            self, vpc=vpc, clients=clients, port=443, what=f"OpenSearch {name}"
        )
        self.admin_role = iam.Role(
            self,
            "AdminRole",
            role_name=f"{name}-admin",
            assumed_by=iam.AccountRootPrincipal(),
            description=f"Fine-grained access control master user of OpenSearch {name}",
        )
        log_groups = self._log_groups(name, log_retention, allow_data_loss)
        logs_policy = self._logs_policy(name, log_groups)
        self.domain = self._domain(
            name=name,
            version=version,
            vpc=vpc,
            subnets=subnets,
            zones=zones,
            data_node_type=data_node_type,
            data_nodes=data_nodes,
            volume_gib=volume_gib,
            dedicated_masters=dedicated_masters,
            master_node_type=master_node_type,
            log_groups=log_groups,
            allow_data_loss=allow_data_loss,
        )
        self.domain.node.add_dependency(logs_policy)
        if create_service_linked_role:
            role = iam.CfnServiceLinkedRole(
                self,
                "ServiceLinkedRole",
                aws_service_name="opensearchservice.amazonaws.com",
                description="OpenSearch Service's access to the VPC, for domains in it",
            )
            role.apply_removal_policy(RemovalPolicy.RETAIN)
            self.domain.node.add_dependency(role)
        self._access_policy(name)
        self.endpoint = self.domain.domain_endpoint
        _acknowledge(self.domain, dedicated_masters=dedicated_masters, zones=zones)

    def _domain(
        self,
        *,
        name: str,
        version: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        zones: int,
        data_node_type: str,
        data_nodes: int,
        volume_gib: int,
        dedicated_masters: int,
        master_node_type: str,
        log_groups: Mapping[str, logs.ILogGroup],
        allow_data_loss: bool,
    ) -> opensearch.Domain:
        """The domain in one isolated subnet of each of the first `zones` AZs."""
        selected = vpc.select_subnets(
            subnet_type=subnets.subnet_type, availability_zones=vpc.availability_zones[:zones]
        )
        return opensearch.Domain(
            self,
            "Domain",
            domain_name=name,
            version=opensearch.EngineVersion.open_search(version.removeprefix("OpenSearch_")),
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnets=selected.subnets)],
            security_groups=[self.security_group],
            capacity=opensearch.CapacityConfig(
                data_nodes=data_nodes,
                data_node_instance_type=data_node_type,
                master_nodes=dedicated_masters or None,
                master_node_instance_type=master_node_type if dedicated_masters else None,
                multi_az_with_standby_enabled=False,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=zones > 1, availability_zone_count=zones if zones > 1 else None
            ),
            ebs=opensearch.EbsOptions(
                volume_size=volume_gib, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            node_to_node_encryption=True,
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=self.key),
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_arn=self.admin_role.role_arn
            ),
            logging=_logging(log_groups),
            suppress_logs_resource_policy=True,
            enable_auto_software_update=True,
            off_peak_window_enabled=True,
            removal_policy=removal_policy(allow_data_loss=allow_data_loss),
        )

    def _log_groups(
        self, name: str, retention: logs.RetentionDays, allow_data_loss: bool
    ) -> dict[str, logs.LogGroup]:
        """Log type -> its group, every one encrypted with one logs key."""
        logs_key = log_group_key(self, "LogsKey", description=f"Encrypts OpenSearch {name}'s logs")
        return {
            log_type: service_log_group(
                self,
                f"{log_type.title().replace('-', '')}Logs",
                log_group_name=f"/aws/opensearch/{name}/{log_type}",
                key=logs_key,
                retention=retention,
                allow_data_loss=allow_data_loss,
            )
            for log_type in LOG_TYPES
        }

    def _logs_policy(
        self, name: str, log_groups: Mapping[str, logs.ILogGroup]
    ) -> logs.ResourcePolicy:
        """The resource policy letting OpenSearch write exactly these groups (written here, so
        the L2 adds no custom resource for it)."""
        return logs.ResourcePolicy(
            self,
            "LogsPolicy",
            resource_policy_name=f"opensearch-{name}",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{group.log_group_arn}" for group in log_groups.values()],
                    conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                )
            ],
        )

    def _access_policy(self, name: str) -> None:
        """This account's principals may call the domain; fine-grained access control decides
        what each may do. Set on the resource itself: the L2's `access_policies` applies them
        afterwards through a custom-resource Lambda, which this policy (a fixed ARN) does not
        need."""
        cfn = self.domain.node.default_child
        assert isinstance(cfn, opensearch.CfnDomain)
        cfn.access_policies = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="ThisAccountsPrincipalsFineGrainedAccessDecides",
                    principals=[iam.AccountRootPrincipal()],
                    actions=["es:ESHttp*"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="es", resource="domain", resource_name=f"{name}/*"
                        )
                    ],
                )
            ]
        ).to_json()


def _logging(log_groups: Mapping[str, logs.ILogGroup]) -> opensearch.LoggingOptions:
    return opensearch.LoggingOptions(
        slow_search_log_enabled=True,
        slow_search_log_group=log_groups["slow-search"],
        slow_index_log_enabled=True,
        slow_index_log_group=log_groups["slow-index"],
        app_log_enabled=True,
        app_log_group=log_groups["application"],
        audit_log_enabled=True,
        audit_log_group=log_groups["audit"],
    )


def _acknowledge(domain: opensearch.Domain, *, dedicated_masters: int, zones: int) -> None:
    """Findings a VPC domain and this environment's trade-offs explain."""
    acknowledge(
        domain,
        "AwsSolutions::AwsSolutions-OS3",
        "A VPC domain: only the cluster's security group reaches it, and OpenSearch "
        "ignores source-IP conditions for VPC access, so an IP allow-list cannot apply.",
    )
    if not dedicated_masters:
        acknowledge(
            domain,
            "AwsSolutions::AwsSolutions-OS4",
            "No dedicated masters is this environment's configured trade-off (outside "
            "prod); config rejects prod without 3 or 5.",
        )
    if zones < 2:
        acknowledge(
            domain,
            "AwsSolutions::AwsSolutions-OS7",
            "A single data node (one AZ) is this environment's configured trade-off; "
            "config rejects prod with fewer than two.",
        )


def _validate(name: str, zones: int, data_nodes: int, dedicated_masters: int) -> None:
    if dedicated_masters not in (0, 3, 5):
        raise ValueError(f"dedicated_masters: 0, 3 or 5; got {dedicated_masters}")
    if data_nodes < 1 or (zones > 1 and data_nodes % zones):
        raise ValueError(
            f"data_nodes: at least 1 and a multiple of the {zones} zones used; got {data_nodes}"
        )
    if not 3 <= len(name) <= MAX_NAME:
        raise ValueError(f"name: 3 to {MAX_NAME} characters; got {name!r}")
