"""EC2 instance sizes (vCPU, memory) of the families the platform's node groups use: plain
data, so the config can check that the teams' quotas fit the cluster without an AWS call.

Sizes from the EC2 instance type specifications
(https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html,
https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html,
https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html): within the m, c and r families of
these generations `large` is 2 vCPU and each size up doubles it, with 4 (m), 2 (c) or 8 (r) GiB
per vCPU; `medium` (Graviton only) is 1 vCPU. Burstable t3/t4g are listed one by one.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple


class InstanceSize(NamedTuple):
    vcpus: int
    memory_gib: float


_VCPUS = {
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
}
_GIB_PER_VCPU = {"m": 4, "c": 2, "r": 8}
_GRAVITON_FAMILIES = ("m6g", "m7g", "m8g", "c6g", "c7g", "c8g", "r6g", "r7g", "r8g")
_X86_FAMILIES = ("m5", "m6i", "m7i", "m6a", "m7a", "c6i", "c7i", "r5", "r6i", "r7i")
_BURSTABLE = {
    "medium": InstanceSize(2, 4),
    "large": InstanceSize(2, 8),
    "xlarge": InstanceSize(4, 16),
    "2xlarge": InstanceSize(8, 32),
}

INSTANCE_SIZES = MappingProxyType(
    {
        **{
            f"{family}.{size}": InstanceSize(vcpus, vcpus * _GIB_PER_VCPU[family[0]])
            for family in (*_GRAVITON_FAMILIES, *_X86_FAMILIES)
            for size, vcpus in _VCPUS.items()
        },
        **{
            f"{family}.medium": InstanceSize(1, _GIB_PER_VCPU[family[0]])
            for family in _GRAVITON_FAMILIES
        },
        **{f"{family}.{size}": s for family in ("t3", "t4g") for size, s in _BURSTABLE.items()},
    }
)
"""Instance type -> its vCPUs and memory; a type not here cannot be checked (a warning)."""
