"""The platform configuration: one YAML file, a frozen typed model, and the rules it obeys.

`load_config(path)` is the only entry point the app uses; it returns a `PlatformConfig` or
raises `ConfigError` whose message lists every problem with its path and value.
"""

from config.loader import ConfigError, config_warnings, load_config, parse_config
from config.model import Account, PlatformConfig

__all__ = [
    "Account",
    "ConfigError",
    "PlatformConfig",
    "config_warnings",
    "load_config",
    "parse_config",
]
