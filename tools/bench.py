"""`make bench`: how long synthesis takes, how much memory it needs, what one account costs.

Every synth starts the way `cdk synth` starts the app (cdk.json's `app` command, with
`CDK_OUTDIR` and `CDK_CONTEXT_JSON`):

- floor: an empty CDK app started the same way (same interpreter and flags), with the same
  App settings (`app.APP_PROPS`: CDK's built-in template validation is off in both) —
  Python, jsii, Node; nothing of ours;
- sample: the sample organisation with every policy pack;
- +10 / +30: the sample plus that many generated workload accounts, each a copy of the
  sample's dev account (network, cluster, data, edge; `--shape no-edge`: without the edge;
  `--shape network`: the network only) with its own id, CIDR and domain, promoted two per
  wave after the dev wave; the slope from the sample to the largest gives the marginal
  cost of one account.

The runs are interleaved: each round runs every case once, so a machine that speeds up or
slows down during the bench (a shared VM's speed drifts within the hour) moves all cases
alike and the ratio and the slope stay fair. Each case reports the median wall time of its
rounds, the median CPU time (Python + Node, user + system) and the largest total resident
size of the process tree, sampled every 100 ms. Results go to
`bench/results.json` and a Markdown table on stdout; the exit code is 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from app import APP_PROPS, app_command

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "platform.yaml"
FLOOR_APP = f"from aws_cdk import App\nApp(**{dict(APP_PROPS)!r}).synth()\n"
"""The floor's program, run with the app command's interpreter and flags instead of app.py."""

TARGET_RATIO = 8.0
"""Full synth at most this many times the floor."""
TARGET_SECONDS_PER_ACCOUNT = 0.5
TARGET_PEAK_MB = 1536
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    templates: int
    resources: int


@dataclass(frozen=True)
class Case:
    name: str
    argv: Sequence[str]
    accounts: int = 0
    context: dict | None = None


@dataclass(frozen=True)
class Result:
    name: str
    accounts: int
    seconds: float
    """Median wall time."""
    cpu_seconds: float
    """Median CPU time of the process tree (user + system)."""
    runs: list[float]
    peak_mb: float
    templates: int
    resources: int


def _tree_rss_kb(root_pid: int) -> int:
    """Resident size of `root_pid` and its descendants, walking /proc/<pid>/task/*/children
    (Linux; a handful of small reads, so sampling does not slow the run it measures)."""
    total, frontier = 0, [root_pid]
    while frontier:
        pid = frontier.pop()
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * PAGE_KB
            for task in os.scandir(f"/proc/{pid}/task"):
                with open(f"{task.path}/children", encoding="ascii") as f:
                    frontier += [int(child) for child in f.read().split()]
        except OSError:
            continue  # the process ended between two reads
    return total


def _count(outdir: Path) -> tuple[int, int]:
    templates = list(outdir.rglob("*.template.json"))
    resources = sum(len(json.loads(t.read_text()).get("Resources", {})) for t in templates)
    return len(templates), resources


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(case: Case) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-") as outdir:
        env = {**os.environ, "CDK_OUTDIR": outdir}
        if case.context:
            env["CDK_CONTEXT_JSON"] = json.dumps(case.context)
        cpu_before, start = _children_cpu_seconds(), time.perf_counter()
        process = subprocess.Popen(case.argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(SAMPLE_SECONDS)
        # poll() reaped the app, and each process of the tree waits for its own children, so
        # RUSAGE_CHILDREN now includes Python, the jsii runtime and the Node kernel.
        seconds, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu_before
        if process.returncode:
            raise SystemExit(f"{' '.join(case.argv)} failed with exit code {process.returncode}")
        templates, resources = _count(Path(outdir))
    return Run(seconds, cpu, peak / 1024, templates, resources)


def measure(cases: Sequence[Case], rounds: int) -> list[Result]:
    """Run every case once per round, round after round (see the module docstring)."""
    done: dict[str, list[Run]] = {case.name: [] for case in cases}
    for round_ in range(1, rounds + 1):
        for case in cases:
            done[case.name].append(run_once(case))
        print(
            f"  round {round_}: "
            + ", ".join(f"{name} {runs[-1].seconds:.2f} s" for name, runs in done.items()),
            file=sys.stderr,
        )
    return [
        Result(
            name=case.name,
            accounts=case.accounts,
            seconds=statistics.median(r.seconds for r in done[case.name]),
            cpu_seconds=statistics.median(r.cpu_seconds for r in done[case.name]),
            runs=[round(r.seconds, 3) for r in done[case.name]],
            peak_mb=max(r.peak_mb for r in done[case.name]),
            templates=done[case.name][0].templates,
            resources=done[case.name][0].resources,
        )
        for case in cases
    ]


SHAPES = ("full", "no-edge", "network")
"""full: a copy of the sample's dev account (network, cluster, data, and an edge for its own
`<name>.<parent zone>` domain); no-edge: the same without a domain, so without the Edge and
EdgeGlobal stacks; network: the least a workload account must have."""


ACCOUNTS_PER_WAVE = 1
"""A wave is one CodePipeline stage, and a full dev-like account brings 24 of its 50 actions
(prepare and execute of each of its 12 stacks): one per wave keeps each stage under the 80%
the policy gate allows (`PipelineLimits`)."""


def with_extra_accounts(raw: dict, extra: int, shape: str = "full") -> dict:
    """The sample plus `extra` copies of its dev account, each with its own id and /16,
    promoted after the dev wave in waves of ACCOUNTS_PER_WAVE."""
    result = copy.deepcopy(raw)
    template = raw["accounts"]["dev"]
    used = [
        ipaddress.ip_network(a["network"]["cidr"])
        for a in raw["accounts"].values()
        if "network" in a
    ]
    candidates = (
        n
        for n in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=16)
        if not any(n.overlaps(u) for u in used)
    )
    names = [f"team{index:02d}" for index in range(extra)]
    for index, name in enumerate(names):
        account = copy.deepcopy(template)
        account["id"] = f"9{index:011d}"
        account["network"]["cidr"] = str(next(candidates))
        account["cluster"]["admin_role_arns"] = [f"arn:aws:iam::{account['id']}:role/PlatformAdmin"]
        account["cluster"]["viewer_role_arns"] = []
        if "access" in account:
            account["access"]["roles"] = [f"arn:aws:iam::{account['id']}:role/PlatformAdmin"]
        if shape == "full":
            account["domain"] = f"{name}.{raw['dns']['parent_zone']}"
        else:
            account.pop("domain", None)  # no edge (and an edge needs a cluster behind it)
        if shape == "network":
            account.pop("cluster")
            account.pop("data", None)
        result["accounts"][name] = account
    waves = result["pipeline"]["waves"]
    after_dev = next(i for i, w in enumerate(waves) if "dev" in w["accounts"]) + 1
    waves[after_dev:after_dev] = [
        {"name": f"teams{i // ACCOUNTS_PER_WAVE:02d}", "accounts": names[i : i + ACCOUNTS_PER_WAVE]}
        for i in range(0, extra, ACCOUNTS_PER_WAVE)
    ]
    return result


def slope(small: Result, large: Result, figure: str) -> float:
    """What one more account adds to `figure` ("seconds" or "cpu_seconds")."""
    return (getattr(large, figure) - getattr(small, figure)) / (large.accounts - small.accounts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds")
    parser.add_argument("--extra", type=int, nargs="*", default=[10, 30])
    parser.add_argument("--shape", choices=SHAPES, default="full")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    *interpreter, script = app_command()
    raw = yaml.safe_load(SAMPLE.read_text())
    print(f"benchmarking ({args.runs} rounds, each case once per round)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-config-") as folder:
        cases = [
            Case("floor (empty app)", [*interpreter, "-c", FLOOR_APP]),
            Case("sample organisation", [*interpreter, script], len(raw["accounts"])),
        ]
        for extra in args.extra:
            path = Path(folder) / f"plus{extra}.yaml"
            path.write_text(yaml.safe_dump(with_extra_accounts(raw, extra, args.shape)))
            cases.append(
                Case(
                    f"sample + {extra} {args.shape} accounts",
                    [*interpreter, script],
                    len(raw["accounts"]) + extra,
                    {"platform:config": str(path)},
                )
            )
        results = measure(cases, args.runs)
    floor, sample, *scaled = results
    ratio = sample.seconds / floor.seconds
    per_account = slope(sample, scaled[-1], "seconds") if scaled else 0.0
    cpu_ratio = sample.cpu_seconds / floor.cpu_seconds
    cpu_per_account = slope(sample, scaled[-1], "cpu_seconds") if scaled else None
    peak = max(r.peak_mb for r in results)
    checks = {
        f"full synth ≤ {TARGET_RATIO:g}x floor": (f"{ratio:.1f}x", ratio <= TARGET_RATIO),
        f"each extra account ≤ {TARGET_SECONDS_PER_ACCOUNT} s": (
            f"{per_account:.2f} s",
            per_account <= TARGET_SECONDS_PER_ACCOUNT,
        ),
        f"peak memory < {TARGET_PEAK_MB} MB": (f"{peak:.0f} MB", peak < TARGET_PEAK_MB),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                "results": [asdict(r) for r in results],
                "command": [*interpreter, script],
                "ratio_to_floor": round(ratio, 2),
                "seconds_per_extra_account": round(per_account, 3),
                "cpu_ratio_to_floor": round(cpu_ratio, 2),
                "cpu_seconds_per_extra_account": (
                    round(cpu_per_account, 3) if cpu_per_account is not None else None
                ),
                "targets": {name: {"value": v, "met": ok} for name, (v, ok) in checks.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print("| run | accounts | median | CPU | peak memory | templates | resources |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | {r.accounts or '—'} | {r.seconds:.2f} s | {r.cpu_seconds:.2f} s "
            f"| {r.peak_mb:.0f} MB | {r.templates} | {r.resources} |"
        )
    print()
    for name, (value, ok) in checks.items():
        print(f"- {'met' if ok else 'MISSED'}: {name}: {value}")
    if cpu_per_account is not None:
        print(
            f"\n(CPU time, for comparison: {cpu_ratio:.1f}x the floor, "
            f"{cpu_per_account:.2f} s per extra account)"
        )
    print(f"\n(written to {args.output})")
    return 0 if all(ok for _, ok in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
