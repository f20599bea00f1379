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

    write_reports(assembly, lint, args.out, admission_rows(load_config(args.config)))
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
