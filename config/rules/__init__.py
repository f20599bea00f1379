"""Rules that compare accounts and sections with each other, one module per domain.

Each rule is a pure function from the (possibly partial) configuration to the problems it
finds. They run even when some accounts failed field validation, over the accounts that
passed, so one run of the loader reports every problem in the file. What one model can check
on its own (roles, engines, comparisons inside a section) is checked by `config.model`.
"""

from __future__ import annotations

from config.rules.accounts import (
    one_account_per_singleton_role,
    regions_allowed,
    unique_account_ids,
    workload_environments_present,
)
from config.rules.ci import ci_role_name, ci_roles_have_targets, existing_providers_name_accounts
from config.rules.cluster import (
    addon_versions_pinned,
    karpenter_pools_valid,
    kubernetes_version_supported,
    kubernetes_version_warnings,
)
from config.rules.data import data_sized_for_environment, data_where_it_belongs
from config.rules.edge import edge_where_it_belongs
from config.rules.gitops import (
    argocd_high_availability_has_nodes,
    gitops_has_clusters,
    spokes_reach_the_hub,
)
from config.rules.identity import (
    access_roles_of_their_account,
    cluster_principals_of_their_environment,
    domains_distinct,
    management_deployed_by_hand,
    pipeline_connection_in_shared_services,
)
from config.rules.network import (
    availability_zones_in_region,
    cidrs_disjoint,
    domains_below_the_parent_zone,
    transit_gateway_reach,
)
from config.rules.notifications import monitoring_channels_exist
from config.rules.pipeline import pipeline_promotes_in_order
from config.rules.problem import PartialConfig, Problem, Rule
from config.rules.teams import (
    team_data_exists,
    team_images,
    team_namespaces,
    team_owner_warnings,
    team_owners,
    team_public_paths,
    team_quota_warnings,
    team_quotas_fit,
    team_services,
    teams_in_workload_accounts,
)

__all__ = ["RULES", "PartialConfig", "Problem", "Rule", "check", "ci_role_name", "warnings"]

RULES: tuple[Rule, ...] = (
    unique_account_ids,
    one_account_per_singleton_role,
    workload_environments_present,
    regions_allowed,
    availability_zones_in_region,
    cidrs_disjoint,
    management_deployed_by_hand,
    pipeline_promotes_in_order,
    pipeline_connection_in_shared_services,
    cluster_principals_of_their_environment,
    access_roles_of_their_account,
    kubernetes_version_supported,
    addon_versions_pinned,
    karpenter_pools_valid,
    gitops_has_clusters,
    argocd_high_availability_has_nodes,
    spokes_reach_the_hub,
    data_where_it_belongs,
    data_sized_for_environment,
    edge_where_it_belongs,
    ci_roles_have_targets,
    existing_providers_name_accounts,
    transit_gateway_reach,
    domains_below_the_parent_zone,
    domains_distinct,
    monitoring_channels_exist,
    teams_in_workload_accounts,
    team_data_exists,
    team_quotas_fit,
    team_public_paths,
    team_namespaces,
    team_services,
    team_images,
    team_owners,
)
"""Every rule, in the order their problems are reported."""


def check(config: PartialConfig) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(config)]


def warnings(config: PartialConfig) -> list[Problem]:
    """Valid but worth a look: clusters on a version in extended support, a team's
    environment none of its owners reaches, quotas a cluster's instance types can't check."""
    return [
        *kubernetes_version_warnings(config),
        *team_owner_warnings(config),
        *team_quota_warnings(config),
    ]
