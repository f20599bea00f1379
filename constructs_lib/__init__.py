"""L3 constructs: one concern per module, keyword-only typed props, no knowledge of accounts,
config or files. Import the module you need (`from constructs_lib.network.vpc import
PlatformNetwork`); this package imports nothing itself so that plain-data modules such as
`vpc_endpoints` stay cheap to import."""
