"""Shared fixtures: the sample config, the whole organisation synthesized once per session,
and a tiny offline stack for construct unit tests."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

# jsii starts `node` from PATH: make it the venv's Node.js 24, however pytest was started.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

import app as platform_app
from config import PlatformConfig, load_config
from pipelines.platform import build_platform
from tests.helpers import of_type

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config" / "platform.yaml"
TEST_ENV = Environment(account="123456789012", region="eu-west-1")
TEST_AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack of the cloud assembly, read back from disk as plain data."""

    stage: str
    id: str
    account: str
    region: str
    termination_protection: bool
    template: dict[str, Any]
    template_file: Path

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return of_type(self.template, resource_type)

    @cached_property
    def cdk_template(self) -> Template:
        """The template as CDK's `assertions.Template`, for `has_resource_properties`,
        `resource_count_is` and `Match`. Built on first use and kept: from_json hands the
        whole template to Node (40-60 ms for the largest stacks; skipping its cycle check
        saves nothing measurable, so it stays on)."""
        return Template.from_json(self.template)


@dataclass(frozen=True)
class Organisation:
    """The synthesized app: stacks by stage, the validation report, and the App itself."""

    outdir: Path
    app: App
    stacks: dict[str, dict[str, SynthesizedStack]] = field(default_factory=dict)
    """Stage (account name) -> stack id -> stack, for the stacks inside stages."""
    top_level: dict[str, SynthesizedStack] = field(default_factory=dict)
    """Stacks directly in the app (the pipeline)."""

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())

    def stacks_named(self, stack_id: str) -> dict[str, SynthesizedStack]:
        """Stage -> its stack `stack_id`, for the stages that have one."""
        return {
            stage: stacks[stack_id] for stage, stacks in self.stacks.items() if stack_id in stacks
        }

    def all_stacks(self) -> Iterator[SynthesizedStack]:
        for by_id in self.stacks.values():
            yield from by_id.values()
        yield from self.top_level.values()


def _read_stacks(directory: Path, stage: str) -> dict[str, SynthesizedStack]:
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        account, region = artifact["environment"].removeprefix("aws://").split("/")
        props = artifact["properties"]
        stack_id = artifact["displayName"].split("/")[-1]
        stacks[stack_id] = SynthesizedStack(
            stage=stage,
            id=stack_id,
            account=account,
            region=region,
            termination_protection=props.get("terminationProtection", False),
            template=json.loads((directory / props["templateFile"]).read_text()),
            template_file=directory / props["templateFile"],
        )
    return stacks


def read_assembly(outdir: Path, app: App) -> Organisation:
    organisation = Organisation(outdir=outdir, app=app, top_level=_read_stacks(outdir, ""))
    root = json.loads((outdir / "manifest.json").read_text())
    for artifact in root["artifacts"].values():
        if artifact["type"] == "cdk:cloud-assembly":
            directory = artifact["properties"]["directoryName"]
            stage = directory.removeprefix("assembly-")
            organisation.stacks[stage] = _read_stacks(outdir / directory, stage)
    return organisation


@pytest.fixture(scope="session")
def sample_config() -> PlatformConfig:
    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sample_raw() -> dict[str, Any]:
    """The sample file as parsed YAML; tests copy it and break one thing."""
    return yaml.safe_load(SAMPLE_CONFIG.read_text())


@pytest.fixture(scope="session")
def organisation(sample_config: PlatformConfig, tmp_path_factory) -> Organisation:
    """The whole sample organisation, synthesized once for the session (policy gate on)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = platform_app.create_app(outdir=str(outdir))
    build_platform(
        app,
        sample_config,
        cdk_cli_version=platform_app.cdk_cli_version(),
        cdk_assets_version=platform_app.cdk_assets_version(),
    )
    app.synth()
    return read_assembly(outdir, app)


class OfflineStack(Stack):
    """A stack for construct tests: bound to a test account, AZs known without a lookup."""

    @property
    def availability_zones(self) -> list[str]:
        return list(TEST_AZS)


def new_stack(
    id_: str = "Test", *, with_policy_gate: bool = False, outdir: Path | None = None
) -> OfflineStack:
    """A fresh App (with cdk.json's feature flags) holding one empty OfflineStack."""
    app = platform_app.create_app(**({"outdir": str(outdir)} if outdir else {}))
    stack = OfflineStack(app, id_, env=TEST_ENV)
    if with_policy_gate:
        from policies.gate import apply_policy_gate

        apply_policy_gate(app)
    return stack
