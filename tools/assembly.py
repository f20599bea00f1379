"""Reading a cloud assembly (cdk.out) back as plain data, for the report and cost tools."""

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

    @cached_property
    def template(self) -> dict[str, Any]:
        return json.loads(self.template_file.read_text(encoding="utf-8"))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})


def read_stacks(outdir: Path) -> dict[str, StackArtifact]:
    """Every stack of the assembly (nested stage assemblies included), by display path."""
    found: dict[str, tuple[str, str, Path]] = {}
    manifests = [(outdir, json.loads((outdir / "manifest.json").read_text()))]
    for artifact in manifests[0][1]["artifacts"].values():
        if artifact["type"] == "cdk:cloud-assembly":
            nested = outdir / artifact["properties"]["directoryName"]
            manifests.append((nested, json.loads((nested / "manifest.json").read_text())))
    for directory, manifest in manifests:
        for artifact in manifest["artifacts"].values():
            if artifact["type"] == "aws:cloudformation:stack":
                account, region = artifact["environment"].removeprefix("aws://").split("/")
                template = directory / artifact["properties"]["templateFile"]
                found[artifact["displayName"]] = (account, region, template)
    stage_of_account = {
        account: path.split("/")[0] for path, (account, _, _) in found.items() if "/" in path
    }
    return {
        path: StackArtifact(
            path=path,
            account_id=account,
            region=region,
            template_file=template,
            account=path.split("/")[0] if "/" in path else stage_of_account.get(account, account),
        )
        for path, (account, region, template) in found.items()
    }
