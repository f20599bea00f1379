#!/usr/bin/env python3
"""The CDK app: read the platform config, build every account's stage, gate on policy.

This is the only module that reads a file, an environment variable or CDK context. The
config path comes from the `platform:config` context key (cdk.json sets the sample; override
with `cdk synth -c platform:config=path/to/yours.yaml`).
"""

from __future__ import annotations

import gc
import json
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aws_cdk import App

from config import ConfigError, config_warnings, load_config
from pipelines.platform import build_platform

CONFIG_CONTEXT_KEY = "platform:config"
DEFAULT_CONFIG = "config/platform.yaml"
EXIT_BAD_CONFIG = 2
CDK_JSON = Path(__file__).with_name("cdk.json")
PACKAGE_JSON = Path(__file__).with_name("package.json")


APP_PROPS: Mapping[str, Any] = MappingProxyType({"builtin_cloud_formation_validation": False})
"""What every App of the platform is built with (`make bench`'s floor too).

CDK's built-in "CloudFormation Validate" plugin is off: it checks templates against the
resource schemas, which cfn-lint already does per stack region (`tests/test_cfn_lint.py` fails
on any error; `make report` lists its warnings), and it cannot stop anything, because CDK turns
its errors into warnings. It would cost synth time for nothing (docs/performance.md has the
figures).
"""


APP_CONTEXT: Mapping[str, Any] = MappingProxyType({"aws:cdk:disable-creation-stack-traces": True})
"""Context every App of the platform sets itself (the CLI warns about `aws:` keys in cdk.json).

No construct creation stacks: through jsii each one reads "no user code in 10 frames", so they
cost synth time and say nothing; `cdk --debug` still records them.
"""


def create_app(**props: Any) -> App:
    """An App with cdk.json's context (feature flags included) however it is started.

    The CDK CLI passes cdk.json's context itself, and CLI context wins over these props;
    loading it here makes `python app.py` and the tests build exactly what `cdk synth` does.
    """
    context = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return App(context={**context, **APP_CONTEXT}, **{**APP_PROPS, **props})


def cdk_cli_version() -> str:
    """The CDK CLI version package.json pins (the pipeline runs the same one)."""
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    return package["devDependencies"]["aws-cdk"]


def cdk_assets_version() -> str:
    """The cdk-assets version package.json pins: what the pipeline's asset-publishing steps
    install (CDK Pipelines would install `@latest`, with roles that publish into every
    account)."""
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    return package["devDependencies"]["cdk-assets"]


def app_command(python: str = sys.executable) -> list[str]:
    """cdk.json's `app` command as an argv, with `python` for its interpreter: how `cdk synth`
    starts this app (the tests and `make bench` start it the same way)."""
    argv = shlex.split(json.loads(CDK_JSON.read_text(encoding="utf-8"))["app"])
    if argv[0] not in ("python", "python3") or not argv[-1].endswith(".py"):
        raise ValueError(f"cdk.json app: expected 'python [flags] app.py'; got {argv}")
    return [python, *argv[1:]]


def main() -> int:
    # Everything imported so far (the bindings) and everything the synth builds lives until
    # the process ends. Freezing both keeps Python's cycle collector off them: it would scan
    # them again during the build and, at interpreter shutdown, several times over, only to
    # free memory the operating system frees anyway (docs/performance.md has the figures).
    gc.freeze()
    app = create_app()
    path = app.node.try_get_context(CONFIG_CONTEXT_KEY) or DEFAULT_CONFIG
    try:
        config = load_config(path)
    except ConfigError as error:
        # The message lists every problem; a traceback would only bury it.
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    for warning in config_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)
    build_platform(
        app, config, cdk_cli_version=cdk_cli_version(), cdk_assets_version=cdk_assets_version()
    )
    app.synth()
    gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
