"""The supply chain: every Python package is installed by its locked hash, here and in the
pipeline's own steps."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import requires

from packaging.requirements import Requirement

from pipelines.pipeline_stack import HEALTH_CHECK_INSTALL, RUNTIME_PACKAGES
from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, list[str]]:
    """Package -> its hashes, read from the lock."""
    packages: dict[str, list[str]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==\S+", line):
            current = match.group(1).lower()
            packages[current] = []
        elif current and (found := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            packages[current].append(found.group(1))
    return packages


def test_every_locked_package_is_pinned_by_hash():
    packages = locked()
    assert len(packages) > 50
    assert [name for name, hashes in packages.items() if not hashes] == []


def test_setup_refuses_a_file_whose_hash_is_not_locked():
    makefile = (ROOT / "Makefile").read_text()
    (install,) = [line for line in makefile.splitlines() if "-r requirements.lock" in line]
    assert "--require-hashes" in install


def test_the_pipelines_runtime_steps_install_their_packages_by_hash(tmp_path):
    """The same awk the steps run, on the real lock: exactly the runtime packages, each with
    its hashes, installed without resolving anything else."""
    extract, install = HEALTH_CHECK_INSTALL.split(" && ")
    assert install.endswith("--no-deps --require-hashes -r /tmp/runtime.lock")
    out = tmp_path / "runtime.lock"
    subprocess.run(extract.replace("/tmp/runtime.lock", str(out)), shell=True, check=True, cwd=ROOT)
    names = re.findall(r"^([A-Za-z0-9_.-]+)==", out.read_text(), flags=re.MULTILINE)
    assert sorted(n.lower() for n in names) == sorted(RUNTIME_PACKAGES)
    assert out.read_text().count("--hash=sha256:") >= len(RUNTIME_PACKAGES)


def test_the_runtime_packages_are_closed_under_their_dependencies():
    """--no-deps installs nothing else: if boto3 gains a dependency, this names it."""
    missing = set()
    for package in RUNTIME_PACKAGES:
        for requirement in map(Requirement, requires(package) or []):
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if requirement.name.lower() not in RUNTIME_PACKAGES:
                missing.add(f"{package} needs {requirement.name}")
    assert missing == set()
