"""The base of every stage: one account of the config, its tags, and the stacks every account
has (the Config baseline and, where the pipeline gates on health, the operations stack)."""

from __future__ import annotations

from aws_cdk import Environment, PermissionsBoundary, Stage, Tags
from constructs import Construct

from config import Account, PlatformConfig
from config.deploy_path import UNPROTECTED_ROLES
from constructs_lib.shared.tagging import RawResourceTags
from facts.cdk import PERMISSIONS_BOUNDARY_NAME
from stages.platform_stack import PlatformStack
from stages.stacks.baseline import BaselineStack
from stages.stacks.ci import CiStack
from stages.stacks.operations import OperationsStack


class PlatformStage(Stage):
    """A stage bound to one account of the config, carrying the cost-allocation tags.

    Every resource of every stack in the stage is tagged with `config.tags` plus
    `Environment: <account role>`: through `Tags.of`, and the few that CDK builds as raw
    CfnResources, which `Tags.of` cannot reach, through `RawResourceTags` on the scopes each
    stack lists in `raw_resource_scopes`.
    """

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        self.config = config
        self.account_config: Account = config.accounts[id_]
        super().__init__(
            scope,
            id_,
            env=Environment(account=self.account_config.id, region=self.account_config.region),
            # Every role the stage's stacks create carries the boundary the bootstrap made:
            # the execution policy lets CloudFormation create roles only with it.
            permissions_boundary=PermissionsBoundary.from_name(PERMISSIONS_BOUNDARY_NAME),
        )
        self.tags = {**config.tags, "Environment": self.account_config.role}
        for key, value in self.tags.items():
            Tags.of(self).add(key, value)
        self.baseline_stacks = {
            region: BaselineStack(
                self,
                region,
                # the security account's home-region recorder is in its Audit stack
                record=not (
                    self.account_config.role == "security" and region == self.account_config.region
                ),
            )
            for region in config.deployment_regions(id_)
        }
        self.operations_stack = OperationsStack(self, "Operations")
        self.build()
        ci = config.ci_repositories_for(id_)
        self.ci_stack = (
            CiStack(self, "Ci", repositories=ci) if ci or config.pipeline is not None else None
        )
        self._after_baselines()
        alarms: dict[str, list[str]] = {region: [] for region in self.baseline_stacks}
        for stack in self.node.children:
            if isinstance(stack, PlatformStack):
                alarms[stack.region] += stack.monitor_found()
        self.operations_stack.dashboard(alarms=alarms, services=self.dashboard_services())
        RawResourceTags(self.tags).add_to(
            scope
            for stack in self.node.children
            if isinstance(stack, PlatformStack)
            for scope in stack.raw_resource_scopes
        )

    def _after_baselines(self) -> None:
        """Every other stack deploys after its region's baseline (its alarms publish to the
        alarm topic there, by name) and the operations stack after every baseline (its chat
        channels subscribe to each region's topic)."""
        for stack in self.node.children:
            if not isinstance(stack, PlatformStack) or stack in self.baseline_stacks.values():
                continue
            if stack is self.operations_stack:
                for baseline in self.baseline_stacks.values():
                    stack.add_stack_dependency(baseline, "subscribes to its alarm topic")
            else:
                stack.add_stack_dependency(
                    self.baseline_stacks[stack.region], "its alarms publish to the alarm topic"
                )

    def build(self) -> None:
        """The stacks of this account role (subclasses); called once, from the constructor,
        after the stacks every account has and before the CI stack (GitHub's OIDC provider,
        the review role, CI roles)."""

    def dashboard_services(self) -> list[str]:
        """What the account's dashboard graphs (`constructs_lib.operations.dashboard`): the
        services its config gives it, and the functions every account has."""
        account = self.account_config
        services = []
        if account.edge_settings is not None:
            services += ["edge", "load_balancer"]
        if account.cluster is not None:
            services.append("cluster")
        data = account.data
        if data is not None and data.postgres is not None:
            services.append("postgres" if data.postgres.engine != "rds" else "postgres_instance")
        if data is not None:
            services += [
                service
                for service, present in (
                    ("cache", data.caches),
                    ("search", data.search),
                    ("kafka", data.kafka),
                )
                if present
            ]
        if account.network is not None:
            services.append("nat")
        return [*services, "functions"]

    @property
    def termination_protection(self) -> bool:
        """Stacks outside dev and sandbox cannot be deleted by a stray `cdk destroy`."""
        return self.account_config.role not in UNPROTECTED_ROLES
