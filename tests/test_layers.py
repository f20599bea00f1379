"""The house's floors: every import points down.

    app -> pipelines -> stages -> constructs_lib -> policies -> facts
                               \\-> config ------------------/

`config` (the typed model of platform.yaml) and `facts` (AWS's limits, the edge region, the CDK
qualifier) sit at the bottom and never start the CDK, so validating a config file is fast and
cannot depend on how it is built. `runtime` (Lambda handlers, the health check) runs in AWS,
not at synth: it imports no CDK and nothing of the platform. `tools` (operator commands) read
config, facts and cloud assemblies, never the construct tree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: dict[str, set[str]] = {
    # package (or top-level module) -> the project packages it may import besides itself
    "app": {"pipelines", "stages", "constructs_lib", "policies", "config", "facts"},
    "pipelines": {"stages", "constructs_lib", "policies", "config", "facts"},
    "stages": {"constructs_lib", "policies", "config", "facts"},
    "constructs_lib": {"policies", "facts"},
    "policies": {"facts"},
    "config": {"facts"},
    "facts": set(),
    "runtime": set(),
    "tools": {"app", "config", "facts", "policies", "runtime", "stages", "constructs_lib"},
}
"""What each floor may import. `tools.bench` starts the app as `cdk synth` does; the taggable
types updater reads the platform pack's list; the preflight asks the DNS as the pipeline's
DnsDelegation step does; `tools.teams_gitops` names the teams' roles, service accounts and
clusters with stages/naming.py, as the stacks do, and the platform's Argo CD project with
constructs_lib/eks/gitops.py."""

CDK_MODULES = ("aws_cdk", "constructs", "cdk_nag", "jsii")


def project_imports(path: Path) -> set[str]:
    """The project packages a module imports (absolute imports only: the project uses no
    relative ones), by their top-level name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(LAYERS)


def modules_of(package: str) -> list[Path]:
    if package == "app":
        return [ROOT / "app.py"]
    return sorted((ROOT / package).rglob("*.py"))


def upward_imports(layers: dict[str, set[str]]) -> list[str]:
    problems = []
    for package, allowed in layers.items():
        for path in modules_of(package):
            for imported in sorted(project_imports(path) - allowed - {package}):
                problems.append(f"{path.relative_to(ROOT)} imports {imported}")
    return problems


def test_every_import_points_down() -> None:
    assert upward_imports(LAYERS) == []


def test_the_check_finds_an_upward_import() -> None:
    """The check is not vacuous: forbidding what stages really import is reported, file by
    file (stages import constructs_lib)."""
    narrowed = {**LAYERS, "stages": LAYERS["stages"] - {"constructs_lib"}}
    problems = upward_imports(narrowed)
    assert "stages/stacks/network.py imports constructs_lib" in problems


def test_every_project_package_has_a_floor() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests"} <= set(LAYERS), packages - set(LAYERS)


def loaded_modules_after(statement: str) -> set[str]:
    """Top-level modules a fresh interpreter has loaded after running `statement`."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in result.stdout.splitlines()}


@pytest.mark.parametrize(
    "statement",
    [
        "import config",
        "from config import load_config; load_config('config/platform.yaml')",
        "import facts.aws, facts.cdk, facts.endpoints, facts.kubernetes",
        "import runtime.health_check, runtime.organization_setup.handler",
    ],
)
def test_the_bottom_floors_never_start_the_cdk(statement: str) -> None:
    assert loaded_modules_after(statement).isdisjoint(CDK_MODULES)


def test_tools_take_only_names_from_stages():
    """The one door from the tools into `stages`: the naming module, which builds no construct."""
    found = []
    for path in modules_of("tools"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [
                f"{path.relative_to(ROOT)} imports {m}"
                for m in modules
                if m.split(".")[0] == "stages" and m != "stages.naming"
            ]
    assert found == []
