"""The compliance report: what the policy gate found, what was acknowledged and why.

    python -m tools.compliance_report [--assembly cdk.out] [--out reports/compliance]

Reads the cloud assembly (`validation-report.json`, the manifests and the templates), so it
also works after a failed synth, and writes for the organisation and for each account:
Markdown, HTML (self-contained, readable offline) and CSV (one row per finding). Exits 1
when any finding is open. `make report` synthesizes first.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
import tarfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path

from tools.assembly import read_stacks

NAG_PREFIXES = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
ORGANISATION = "organisation"


@dataclass(frozen=True)
class Finding:
    account: str
    stack: str
    pack: str
    rule: str
    status: str
    """"open" (fails synthesis) or "acknowledged"."""
    construct: str
    description: str
    acknowledged_at: str = ""
    reason: str = ""


@dataclass(frozen=True)
class LintResult:
    account: str
    template: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass
class Assembly:
    """What the report needs from a cloud assembly."""

    findings: list[Finding]
    stacks: dict[str, tuple[str, str, Path]]
    """Stack display path -> (account id, region, template file)."""
    account_of: dict[str, str]
    """Stack display path -> the account it is reported under (its stage's name)."""
    packs: list[str] = field(default_factory=list)


# --- reading the assembly ---------------------------------------------------------------------


def read_assembly(outdir: Path) -> Assembly:
    artifacts = read_stacks(outdir)
    stacks = {p: (s.account_id, s.region, s.template_file) for p, s in artifacts.items()}
    account_of = {path: stack.account for path, stack in artifacts.items()}
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    findings, packs = [], []
    for plugin in report.get("pluginReports", []):
        pack = plugin["pluginName"]
        packs.append(pack)
        for status, key in (("open", "violations"), ("acknowledged", "suppressedViolations")):
            for violation in plugin.get(key, []):
                for construct in violation.get("violatingConstructs", []):
                    path = construct.get("constructPath", "")
                    stack = _stack_of(path, stacks)
                    findings.append(
                        Finding(
                            account=account_of.get(stack, stack),
                            stack=stack,
                            pack=pack,
                            rule=violation["ruleName"],
                            status=status,
                            construct=path,
                            description=violation.get("description", ""),
                            acknowledged_at=violation.get("acknowledgedAt", ""),
                            reason=violation.get("reason", ""),
                        )
                    )
    return Assembly(findings=findings, stacks=stacks, account_of=account_of, packs=packs)


def _stack_of(path: str, stacks: dict) -> str:
    """The stack display path a construct path lies in (`stage/Stack` or `Stack`)."""
    in_stage = "/".join(path.split("/")[:2])
    return in_stage if in_stage in stacks else path.split("/")[0]


@cache
def nag_rules() -> dict[str, tuple[str, ...]]:
    """Rule ids of each cdk-nag pack, from the RULES.md cdk-nag ships."""
    package = resources.files("cdk_nag") / "_jsii"
    (tgz,) = [p for p in package.iterdir() if p.name.endswith(".tgz")]
    with tarfile.open(fileobj=tgz.open("rb")) as archive:
        rules = archive.extractfile("package/RULES.md")
        if rules is None:
            raise ValueError(f"{tgz.name}: package/RULES.md is not a regular file")
        text = rules.read().decode()
    return {
        prefix: tuple(sorted(set(re.findall(rf"\b({re.escape(prefix)}-[A-Za-z0-9]+)\b", text))))
        for prefix in NAG_PREFIXES
    }


def rules_evaluated(pack: str) -> int | None:
    if pack in NAG_PREFIXES:
        return len(nag_rules()[pack])
    if pack == "Platform":
        from policies.platform import RULES

        return len(RULES)
    return None


# --- cfn-lint ----------------------------------------------------------------------------------

KNOWN_FALSE_ERRORS = {("E3703", "Prefer using Fn::Sub over Fn::Join with an empty delimiter")}
"""cfn-lint 1.58 reports this style hint under an error id for CDK Pipelines' role ARNs
(see tests/test_cfn_lint.py); the report counts it as a warning and says so."""


def cfn_lint(assembly: Assembly) -> list[LintResult]:
    """cfn-lint each template for its own region."""
    from cfnlint.api import lint

    results = []
    for display, (_, region, template) in sorted(assembly.stacks.items()):
        matches = lint(template.read_text(encoding="utf-8"), regions=[region])
        errors, warnings = [], []
        for match in matches:
            line = f"{match.rule.id} {match.message}"
            if match.rule.id.startswith("E") and (match.rule.id, match.message) not in (
                KNOWN_FALSE_ERRORS
            ):
                errors.append(line)
            else:
                warnings.append(line)
        results.append(
            LintResult(assembly.account_of[display], template.name, tuple(errors), tuple(warnings))
        )
    return results


# --- Kubernetes admission policies ------------------------------------------------------------

ADMISSION = Path(__file__).resolve().parents[1] / "gitops/policies/admission"


@dataclass(frozen=True)
class AdmissionRow:
    account: str
    cluster_role: str
    """hub, spoke or standalone: every cluster the GitOps bootstrap reaches (each gets every
    policy: gitops/bootstrap/admission-policies.yaml selects every registered cluster)."""
    policy: str
    enforces: str
    actions: str
    scope: str


def admission_rows(config, policies: Path = ADMISSION) -> list[AdmissionRow]:
    """Which admission policy applies to which cluster, how, and what it enforces: read from
    the policies' `platform.example/enforces` and the bindings' `platform.example/scope`."""
    import yaml

    from config.model import gitops_role_of

    documents = [
        d for path in sorted(policies.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text())
        if d
    ]  # fmt: skip
    enforces = {
        d["metadata"]["name"]: d["metadata"]["annotations"]["platform.example/enforces"]
        for d in documents
        if d["kind"] == "ValidatingAdmissionPolicy"
    }
    bindings = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    rows = []
    for name, account in config.accounts.items():
        role = gitops_role_of(config.gitops, account)
        if role is None:
            continue
        for binding in bindings:
            policy = binding["spec"]["policyName"]
            rows.append(
                AdmissionRow(
                    name, role, policy, enforces[policy],
                    ", ".join(binding["spec"]["validationActions"]),
                    binding["metadata"]["annotations"]["platform.example/scope"],
                )
            )  # fmt: skip
    return rows


def kubernetes_table(rows: Sequence[AdmissionRow]) -> Table:
    return Table(
        "Kubernetes",
        ("cluster (account)", "GitOps role", "policy", "enforces", "actions", "where"),
        [(r.account, r.cluster_role, r.policy, r.enforces, r.actions, r.scope) for r in rows],
        note="ValidatingAdmissionPolicies (CEL) Argo CD installs on every cluster before anything "
        "else (gitops/policies/admission); tests/test_admission_policies.py evaluates each "
        "both ways.",
    )


# --- teams -----------------------------------------------------------------------------------

TEAMS_GITOPS = Path(__file__).resolve().parents[1] / "gitops/teams/argocd"


@dataclass(frozen=True)
class TeamRow:
    team: str
    account: str
    namespaces: str
    """Each namespace with its quota (config: the generated ResourceQuota says the same)."""
    pod_role: str
    reaches: str
    """What the pod role may reach: its data (config) and the actions its policies grant
    (the synthesized Teams stack)."""
    owners: str
    """Owners' access entries in this account's cluster, read from the template."""
    argocd: str
    """The team's AppProject: allowed sources and this account's destinations."""
    nag: str
    """cdk-nag and platform findings on `Teams/Team-<team>` in this account."""


def _grants(template: dict, role_name: str) -> tuple[str | None, list[str]]:
    """The logical id of the role named `role_name` and, per statement of the policies
    attached to it (inline, AWS::IAM::Policy or ManagedPolicy naming it), `Sid: actions`."""
    resources = template.get("Resources", {})
    role_id = next(
        (
            logical_id
            for logical_id, r in resources.items()
            if r["Type"] == "AWS::IAM::Role"
            and r.get("Properties", {}).get("RoleName") == role_name
        ),
        None,
    )
    if role_id is None:
        return None, []
    documents = [p["PolicyDocument"] for p in resources[role_id]["Properties"].get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": role_id} in r["Properties"].get("Roles", [])
    ]
    grants = []
    for document in documents:
        for st in document["Statement"]:
            if st.get("Effect") == "Allow":
                action = st.get("Action", [])
                actions = ", ".join([action] if isinstance(action, str) else action)
                grants.append(f"{st['Sid']}: {actions}" if "Sid" in st else actions)
    return role_id, grants


def team_rows(config, assembly: Assembly, argocd: Path = TEAMS_GITOPS) -> list[TeamRow]:
    """Per team and account it runs in: namespaces and quotas, its Pod Identity role and what
    it may reach, its owners' namespaced access, its Argo CD project's sources and
    destinations, and the findings on its construct (`<account>/Teams/Team-<team>`)."""
    import yaml

    from config.model import team_bucket_prefix
    from stages.naming import (
        cluster_name,
        team_cache_user,
        team_database_user,
        team_role_name,
        team_secrets_path,
    )

    projects = {}
    for path in sorted(argocd.glob("*/*.yaml")):
        for d in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if d and d.get("kind") == "AppProject":
                projects[d["metadata"]["name"]] = d["spec"]
    rows = []
    for team_name, team in sorted(config.teams.items()):
        for account in [a for a in config.accounts if a in team.environments]:
            environment = team.environments[account]
            stack = f"{account}/Teams"
            if stack not in assembly.stacks:
                continue
            template = json.loads(assembly.stacks[stack][2].read_text(encoding="utf-8"))
            role_name = team_role_name(config, account, team_name)
            role_id, grants = _grants(template, role_name)
            data = environment.data
            reaches = []
            if data.postgres:
                reaches.append(f"PostgreSQL as user {team_database_user(team_name)}")
            if data.caches:
                reaches.append(
                    f"caches {', '.join(data.caches)} as user {team_cache_user(team_name)}"
                )
            reaches += [
                f"s3 {b.bucket}/{team_bucket_prefix(team_name, b)} "
                + ("(read-only)" if b.read_only else "(read-write)")
                for b in data.buckets
            ]
            reaches.append(f"secrets {team_secrets_path(config, account, team_name)}")
            owners = [
                (
                    r["Properties"]["PrincipalArn"],
                    [
                        (
                            p["PolicyArn"].rsplit("/", 1)[-1],
                            p.get("AccessScope", {}).get("Type", ""),
                            p.get("AccessScope", {}).get("Namespaces", []),
                        )
                        for p in r["Properties"].get("AccessPolicies", [])
                    ],
                )
                for _, r in sorted(template.get("Resources", {}).items())
                # the entries of the team's owners (Team-<team>/Owner-<role> in the stack)
                if r["Type"] == "AWS::EKS::AccessEntry"
                and r["Properties"]["PrincipalArn"] in team.owners
            ]
            project = projects.get(team_name, {})
            destinations = [
                f"{d.get('name')}/{d.get('namespace')}"
                for d in project.get("destinations", [])
                if d.get("name") == cluster_name(config, account)
            ]
            on_team = [
                f
                for f in assembly.findings
                if f.account == account and f"/Teams/Team-{team_name}/" in f"{f.construct}/"
            ]
            open_ = sorted({f"{f.pack}::{f.rule}" for f in on_team if f.status == "open"})
            acknowledged = sorted(
                {f"{f.pack}::{f.rule}" for f in on_team if f.status == "acknowledged"}
            )
            rows.append(
                TeamRow(
                    team_name,
                    account,
                    "; ".join(
                        f"{ns}: {q.cpu:g} vCPU, {q.memory_gib} GiB, {q.pods} pods"
                        + (f", {q.storage_gib} GiB PVC" if q.storage_gib else "")
                        for ns, q in environment.namespaces.items()
                    ),
                    role_name if role_id else f"{role_name} (not in {stack})",
                    "; ".join(reaches) + (f". Role policy: {'; '.join(grants)}" if grants else ""),
                    "; ".join(
                        f"{arn}: "
                        + ", ".join(
                            f"{policy} ({kind} {', '.join(ns)})".replace(" )", ")")
                            for policy, kind, ns in policies
                        )
                        for arn, policies in owners
                    )
                    or "none in this account",
                    (
                        f"project {team_name}: sources "
                        f"{', '.join(project.get('sourceRepos', []))}; "
                        f"destinations {', '.join(destinations) or 'none'}"
                    )
                    if project
                    else "no AppProject",
                    (f"{len(open_)} open: {', '.join(open_)}; " if open_ else "none open; ")
                    + (
                        f"acknowledged: {', '.join(acknowledged)}"
                        if acknowledged
                        else "none acknowledged"
                    ),
                )
            )
    return rows


def teams_table(rows: Sequence[TeamRow]) -> Table:
    return Table(
        "Teams",
        ("team", "account", "namespaces and quotas", "Pod Identity role", "may reach",
         "owners (access entries)", "Argo CD project", "findings on Teams/Team-<team>"),
        [
            (r.team, r.account, r.namespaces, r.pod_role, r.reaches, r.owners, r.argocd, r.nag)
            for r in rows
        ],
        note="Per team and account (config `teams:`): its namespaces' ResourceQuota, its pods' "
        "role (bound to service account <team> in each namespace) with its data and the actions "
        "the synthesized Teams stack grants, its owners' EKS access entries (namespaced "
        "policies, read from the template), its Argo CD AppProject (gitops/teams/argocd) and "
        "the policy gate's findings on its constructs.",
    )  # fmt: skip


# --- the document ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple]
    note: str = ""


def document(
    scope: str,
    findings: Sequence[Finding],
    packs: Sequence[str],
    lint: Sequence[LintResult],
    admission: Sequence[AdmissionRow] = (),
    teams: Sequence[TeamRow] = (),
) -> list[Table]:
    """The report for one scope (an account, or the organisation) as a list of tables."""
    open_ = [f for f in findings if f.status == "open"]
    acknowledged = [f for f in findings if f.status == "acknowledged"]
    per_rule = Counter((f.pack, f.rule.split("[")[0], f.status) for f in findings)
    rules = sorted({(pack, rule) for pack, rule, _ in per_rule})
    tables = [
        Table(
            "Summary",
            ("scope", "open findings", "acknowledged findings", "verdict"),
            [
                (
                    scope,
                    len(open_),
                    len(acknowledged),
                    "PASS: nothing open" if not open_ else "FAIL: synthesis is blocked",
                )
            ],
        ),
        Table(
            "Packs evaluated",
            ("pack", "rules in pack", "open", "acknowledged"),
            [
                (
                    pack,
                    rules_evaluated(pack) if rules_evaluated(pack) is not None else "-",
                    sum(1 for f in open_ if f.pack == pack),
                    sum(1 for f in acknowledged if f.pack == pack),
                )
                for pack in packs
            ],
        ),
        Table(
            "Findings per rule",
            ("pack", "rule", "open", "acknowledged"),
            [
                (pack, rule, per_rule[(pack, rule, "open")], per_rule[(pack, rule, "acknowledged")])
                for pack, rule in rules
            ],
        ),
    ]
    if scope == ORGANISATION:
        per_account = Counter((f.account, f.status) for f in findings)
        accounts = sorted({f.account for f in findings} | {r.account for r in lint})
        tables.append(
            Table(
                "Findings per account",
                ("account", "open", "acknowledged"),
                [(a, per_account[(a, "open")], per_account[(a, "acknowledged")]) for a in accounts],
            )
        )
    tables.append(
        Table(
            "Open findings",
            ("account", "rule", "construct", "description"),
            [(f.account, f"{f.pack}::{f.rule}", f.construct, f.description) for f in open_],
            note="Each blocks synthesis: fix the construct, or acknowledge it there (README).",
        )
    )
    tables.append(
        Table(
            "Acknowledged findings",
            ("account", "rule", "construct", "acknowledged at", "reason"),
            [
                (f.account, f"{f.pack}::{f.rule}", f.construct, f.acknowledged_at, f.reason)
                for f in sorted(
                    acknowledged, key=lambda f: (f.account, f.pack, f.rule, f.construct)
                )
            ],
        )
    )
    tables.append(
        Table(
            "cfn-lint per template",
            ("account", "template", "errors", "warnings"),
            [(r.account, r.template, len(r.errors), len(r.warnings)) for r in lint],
            note="Known cfn-lint 1.58 false error E3703 (a style hint on CDK Pipelines' role "
            "ARNs) is counted as a warning.",
        )
    )
    if admission:
        tables.append(kubernetes_table(admission))
    if teams:
        tables.append(teams_table(teams))
    return tables


def to_markdown(title: str, tables: Sequence[Table]) -> str:
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", ""]
    for table in tables:
        lines += [f"## {table.title}", ""]
        if table.note:
            lines += [table.note, ""]
        if not table.rows:
            lines += ["(none)", ""]
            continue
        lines.append("| " + " | ".join(table.headers) + " |")
        lines.append("|" + "---|" * len(table.headers))
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows]
        lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin-bottom:2rem;font-size:.9rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.num{text-align:right}.fail{color:#b00020}.pass{color:#1b5e20}"
)


def to_html(title: str, tables: Sequence[Table]) -> str:
    def cell(value) -> str:
        text = html.escape(str(value))
        css = ' class="num"' if isinstance(value, int) else ""
        if text.startswith("FAIL"):
            css = ' class="fail"'
        elif text.startswith("PASS"):
            css = ' class="pass"'
        return f"<td{css}>{text}</td>"

    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for table in tables:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        if table.note:
            parts.append(f"<p>{html.escape(table.note)}</p>")
        if not table.rows:
            parts.append("<p>(none)</p>")
            continue
        parts.append(
            "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers) + "</tr>"
        )
        parts += ["<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in table.rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_csv(path: Path, findings: Iterable[Finding]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields(Finding)])
        writer.writerows(astuple(f) for f in findings)


def write_reports(
    assembly: Assembly,
    lint: Sequence[LintResult],
    out: Path,
    admission: Sequence[AdmissionRow] = (),
    teams: Sequence[TeamRow] = (),
) -> list[Path]:
    """Write the organisation's and each account's report in the three formats."""
    out.mkdir(parents=True, exist_ok=True)
    accounts = sorted(set(assembly.account_of.values()))
    scopes = [(ORGANISATION, assembly.findings, lint)] + [
        (
            account,
            [f for f in assembly.findings if f.account == account],
            [r for r in lint if r.account == account],
        )
        for account in accounts
    ]
    written = []
    for scope, findings, scope_lint in scopes:
        tables = document(
            scope,
            findings,
            assembly.packs,
            scope_lint,
            [r for r in admission if scope in (ORGANISATION, r.account)],
            [r for r in teams if scope in (ORGANISATION, r.account)],
        )
        title = f"Compliance report: {scope}"
        for suffix, text in (
            (".md", to_markdown(title, tables)),
            (".html", to_html(title, tables)),
        ):
            path = out / f"{scope}{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
        write_csv(out / f"{scope}.csv", findings)
        written.append(out / f"{scope}.csv")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assembly", default="cdk.out", type=Path)
    parser.add_argument("--out", default="reports/compliance", type=Path)
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    parser.add_argument("--config", default="config/platform.yaml", type=Path)
    args = parser.parse_args(argv)
    if not (args.assembly / "validation-report.json").exists():
        print(
            f"{args.assembly}: no validation-report.json; run `make synth` first", file=sys.stderr
        )
        return 2
    assembly = read_assembly(args.assembly)
    lint = [] if args.no_lint else cfn_lint(assembly)
    from config import load_config

    config = load_config(args.config)
    write_reports(assembly, lint, args.out, admission_rows(config), team_rows(config, assembly))
    open_count = sum(1 for f in assembly.findings if f.status == "open")
    acknowledged = len(assembly.findings) - open_count
    print(
        f"{args.out}/{ORGANISATION}.{{md,html,csv}} and one set per account: "
        f"{open_count} open, {acknowledged} acknowledged findings, "
        f"{sum(len(r.errors) for r in lint)} cfn-lint errors"
    )
    return 1 if open_count else 0


if __name__ == "__main__":
    sys.exit(main())
