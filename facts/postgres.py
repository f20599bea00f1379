"""Which PostgreSQL versions RDS and Aurora still create, and which parameters belong where."""

from __future__ import annotations

from types import MappingProxyType

DEFAULT_VERSION = "16.11"
"""The minor the platform creates by default: offered by RDS and Aurora PostgreSQL when last
checked (late 2026)."""

OLDEST_OFFERED_MINOR = MappingProxyType({16: 8})
"""Major -> the oldest minor still offered for new databases when last checked. Minor versions
are retired about a year after release, and creating a retired one fails ("Cannot find
version"): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.Minor.html
Majors not listed are not checked; raise the floor when AWS retires more."""

AURORA_INSTANCE_ONLY_PARAMETERS = frozenset(
    {"rds.memory_allocation_guard", "transform_null_equals"}
)
"""Aurora PostgreSQL parameters a DB cluster parameter group refuses ("Invalid / Unmodifiable /
Unsupported DB Parameter"): they belong in a DB (instance) parameter group. Every other
parameter the platform sets (`rds.force_ssl`, `log_*`, `shared_preload_libraries`,
`max_connections`) is a cluster-level one:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Reference.ParameterGroups.html"""
