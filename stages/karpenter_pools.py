"""Karpenter's cluster-side objects from config: one EC2NodeClass and the NodePools.

Plain data (no aws_cdk import): CDK renders them into the cluster's `karpenter_node_pools`
bridge annotation (JSON), and gitops/charts/karpenter-pools writes them out unchanged.
The values only CloudFormation knows (the node role's name, the security group ids) arrive
through their own annotations, and the chart adds them to the node class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from config.model import NodePool
from facts.kubernetes import DISCOVERY_TAG

NODE_CLASS = "default"


def node_class(
    *,
    cluster_name: str,
    ami_alias: str,
    disk_size_gib: int,
    role_name: str | None = None,
    security_group_ids: Sequence[str] = (),
) -> dict:
    """The EC2NodeClass: the pinned AMI alias, the tagged private subnets, the given groups
    by id (the cluster security group EKS made, which CloudFormation cannot tag, and the
    workload-clients group), `spec.role` (Karpenter makes the instance profile), IMDSv2 only
    with hop limit 1 (pods use Pod Identity, never the node's role) and an encrypted gp3
    volume."""
    bottlerocket = ami_alias.startswith("bottlerocket")
    volume = {
        "volumeSize": f"{disk_size_gib}Gi",
        "volumeType": "gp3",
        "encrypted": True,
        "deleteOnTermination": True,
    }
    if bottlerocket:  # the OS volume stays small; containers live on the data volume
        devices = [
            {"deviceName": "/dev/xvda", "ebs": {**volume, "volumeSize": "4Gi"}},
            {"deviceName": "/dev/xvdb", "ebs": volume},
        ]
    else:
        devices = [{"deviceName": "/dev/xvda", "ebs": volume}]
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": NODE_CLASS},
        "spec": {
            "amiSelectorTerms": [{"alias": ami_alias}],
            "subnetSelectorTerms": [{"tags": {DISCOVERY_TAG: cluster_name}}],
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": devices,
            "associatePublicIPAddress": False,
            "tags": {DISCOVERY_TAG: cluster_name},
            **({"role": role_name} if role_name is not None else {}),
            **(
                {"securityGroupSelectorTerms": [{"id": group} for group in security_group_ids]}
                if security_group_ids
                else {}
            ),
        },
    }


def node_pool(name: str, pool: NodePool) -> dict:
    """One NodePool from its config."""
    requirements: list[dict] = [
        {
            "key": "karpenter.sh/capacity-type",
            "operator": "In",
            "values": list(pool.capacity_types),
        },
        {"key": "kubernetes.io/arch", "operator": "In", "values": list(pool.architectures)},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {
            "key": "karpenter.k8s.aws/instance-generation",
            "operator": "Gt",
            "values": [str(pool.min_generation - 1)],
        },
    ]
    if pool.instance_families:
        requirements.append(
            {
                "key": "karpenter.k8s.aws/instance-family",
                "operator": "In",
                "values": list(pool.instance_families),
            }
        )
    else:
        requirements.append(
            {
                "key": "karpenter.k8s.aws/instance-category",
                "operator": "In",
                "values": list(pool.instance_categories),
            }
        )
    template_spec: dict = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": NODE_CLASS},
        "requirements": requirements,
        "expireAfter": pool.expire_after,
    }
    if pool.taints:
        template_spec["taints"] = [
            {"key": t.key, "value": t.value, "effect": t.effect}
            if t.value
            else {"key": t.key, "effect": t.effect}
            for t in pool.taints
        ]
    template: dict = {"spec": template_spec}
    if pool.labels:
        template["metadata"] = {"labels": dict(pool.labels)}
    budgets = []
    for budget in pool.budgets:
        entry: dict = {"nodes": budget.nodes}
        if budget.schedule is not None:
            entry |= {"schedule": budget.schedule, "duration": budget.duration}
        if budget.reasons:
            entry["reasons"] = list(budget.reasons)
        budgets.append(entry)
    spec: dict = {
        "template": template,
        "limits": {"cpu": str(pool.cpu_limit), "memory": f"{pool.memory_limit_gib}Gi"},
        "disruption": {
            "consolidationPolicy": pool.consolidation_policy,
            "consolidateAfter": pool.consolidate_after,
            "budgets": budgets,
        },
    }
    if pool.weight is not None:
        spec["weight"] = pool.weight
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": spec,
    }


def manifests(
    *,
    cluster_name: str,
    ami_alias: str,
    disk_size_gib: int,
    pools: Mapping[str, NodePool],
    role_name: str | None = None,
    security_group_ids: Sequence[str] = (),
) -> list[dict]:
    """The node class and the pools (in name order); none at all without pools. Without
    `role_name` and `security_group_ids` the node class lacks `role` and
    `securityGroupSelectorTerms`, which gitops/charts/karpenter-pools adds from the
    cluster's annotations."""
    if not pools:
        return []
    return [
        node_class(
            cluster_name=cluster_name,
            ami_alias=ami_alias,
            role_name=role_name,
            security_group_ids=security_group_ids,
            disk_size_gib=disk_size_gib,
        ),
        *(node_pool(name, pools[name]) for name in sorted(pools)),
    ]
