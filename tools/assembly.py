"""Reading a cloud assembly (cdk.out) back as plain data, for the report, cost, diagram and
preflight tools."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackArtifact:
    path: str
    """The stack's display path: `stage/Stack`, or `Stack` at the top level."""
    account_id: str
    region: str
    template_file: Path
    account: str
    """The account it belongs to, named as its stage (a top-level stack takes the name of the
    stage in the same account, else the account id)."""
    stack_name: str = ""
    """The CloudFormation stack name it deploys as (`dev-Network`)."""
    bootstrap_version: int = 0
    """The lowest CDK bootstrap stack version its deployment needs (0: none stated)."""

    @cached_property
    def template(self) -> dict[str, Any]:
        return json.loads(self.template_file.read_text(encoding="utf-8"))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})


def read_stacks(outdir: Path) -> dict[str, StackArtifact]:
    """Every stack of the assembly (nested stage assemblies included), by display path."""
    found: dict[str, tuple[str, str, Path, dict[str, Any]]] = {}
    manifests = [(outdir, json.loads((outdir / "manifest.json").read_text()))]
    for artifact in manifests[0][1]["artifacts"].values():
        if artifact["type"] == "cdk:cloud-assembly":
            nested = outdir / artifact["properties"]["directoryName"]
            manifests.append((nested, json.loads((nested / "manifest.json").read_text())))
    for directory, manifest in manifests:
        for artifact in manifest["artifacts"].values():
            if artifact["type"] == "aws:cloudformation:stack":
                account, region = artifact["environment"].removeprefix("aws://").split("/")
                properties = artifact["properties"]
                template = directory / properties["templateFile"]
                found[artifact["displayName"]] = (account, region, template, properties)
    stage_of_account = {
        account: path.split("/")[0] for path, (account, *_) in found.items() if "/" in path
    }
    return {
        path: StackArtifact(
            path=path,
            account_id=account,
            region=region,
            template_file=template,
            account=path.split("/")[0] if "/" in path else stage_of_account.get(account, account),
            stack_name=properties.get("stackName", path.replace("/", "-")),
            bootstrap_version=properties.get("requiresBootstrapStackVersion", 0),
        )
        for path, (account, region, template, properties) in found.items()
    }
