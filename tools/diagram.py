"""`make diagram`: the organisation as the synthesized assembly describes it.

    python -m tools.diagram [--assembly cdk.out] [--out docs] [--readme README.md]

Draws every account (stage) with its stacks and their main resources, and the links between
accounts that the templates themselves contain: an ARN of another account's role, secret or
key (the pipeline's deploy roles, Argo CD's hub and spokes, the health gate, ...). Writes
`architecture.svg`, laid out by Graphviz (its WebAssembly build from node_modules/, run by
the pinned Node.js: no system Graphviz needed), `architecture.mmd` (Mermaid), and replaces
the block between the diagram markers in the README.
"""

from __future__ import annotations

import argparse
import html
import math
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.assembly import StackArtifact, read_stacks
from tools.readme import replace_block

MAIN_RESOURCES = {
    "AWS::Organizations::OrganizationalUnit": "OU",
    "AWS::Organizations::Policy": "policy",
    "AWS::Budgets::Budget": "budget",
    "AWS::CloudTrail::Trail": "trail",
    "AWS::GuardDuty::Detector": "GuardDuty detector",
    "Custom::GuardDutyDetector": "GuardDuty detector",
    "AWS::SecurityHub::Hub": "Security Hub",
    "Custom::SecurityHub": "Security Hub",
    "AWS::Config::ConfigurationAggregator": "Config aggregator",
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::EC2::VPCEndpoint": "endpoint",
    "AWS::EC2::TransitGateway": "Transit Gateway",
    "AWS::EC2::TransitGatewayAttachment": "TGW attachment",
    "AWS::EKS::Cluster": "EKS cluster",
    "AWS::EKS::Nodegroup": "node group",
    "AWS::EKS::FargateProfile": "Fargate profile",
    "AWS::RDS::DBCluster": "Aurora cluster",
    "AWS::ElastiCache::ReplicationGroup": "cache",
    "AWS::OpenSearchService::Domain": "OpenSearch domain",
    "AWS::MSK::Cluster": "MSK cluster",
    "AWS::S3::Bucket": "bucket",
    "AWS::Backup::BackupVault": "backup vault",
    "AWS::CloudFront::Distribution": "distribution",
    "AWS::WAFv2::WebACL": "web ACL",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::Route53::HostedZone": "hosted zone",
    "AWS::ECR::Repository": "ECR repository",
    "AWS::CodePipeline::Pipeline": "pipeline",
    "AWS::CodeBuild::Project": "CodeBuild project",
}
"""Resource types worth a mention in the picture, and what to call them."""

_ARN = re.compile(
    r"arn:(?:aws[a-z-]*)?:([a-z0-9-]+):[a-z0-9-]*:(\d{12}):([A-Za-z0-9_+=,.@/:*{}-]*)"
)

LINK_KINDS = (
    (re.compile(r"^role/cdk-[a-z0-9]+-(deploy|cfn-exec)-role"), "deploys (CDK Pipelines)"),
    (re.compile(r"^role/cdk-[a-z0-9]+-(file|image)-publishing"), "publishes assets"),
    (re.compile(r"^role/.*argocd-spoke"), "Argo CD deploys"),
    # The hub's Argo CD role and its registration reader (architecture.md, hub and spokes).
    (re.compile(r"^role/.*argocd-(hub|registrations)"), "trusts the Argo CD hub"),
    (re.compile(r"^role/.*health-check"), "health gate"),
    (re.compile(r"^role/.*-dns-"), "delegates its DNS subzone"),
    (re.compile(r"^role/.*network-hub-reader"), "reads the network hub"),
    (re.compile(r"^secret:.*argocd-registration"), "reads cluster registration"),
    (re.compile(r"^root$"), "trusts the account"),
)


@dataclass
class Account:
    name: str
    account_id: str
    region: str
    stacks: dict[str, Counter] = field(default_factory=dict)
    """Stack id -> main resource label -> count."""


@dataclass
class Picture:
    accounts: dict[str, Account]
    links: dict[tuple[str, str], set[str]]
    """(from account, to account) -> what the link is."""


def _strings(value: Any) -> Iterator[str]:
    """Every string in a template value; an Fn::Join is joined with its tokens dropped."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        join = value.get("Fn::Join")
        if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list):
            yield join[0].join(p if isinstance(p, str) else "" for p in join[1])
        for item in value.values():
            yield from _strings(item)


def _label(resource: Mapping[str, Any]) -> str | None:
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::RDS::DBInstance" and "DBClusterIdentifier" not in props:
        return "RDS instance"
    if resource["Type"] == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Gateway":
        return None
    return MAIN_RESOURCES.get(resource["Type"])


ORDER = ("management", "security", "shared-services", "dev", "staging", "prod", "sandbox")
"""The sample's accounts in promotion order; other names follow alphabetically."""


def _kind(service: str, resource: str) -> str:
    for pattern, label in LINK_KINDS:
        if pattern.search(resource):
            return label
    return f"uses {service}"


def read_picture(stacks: Mapping[str, StackArtifact]) -> Picture:
    accounts: dict[str, Account] = {}
    name_of_id = {s.account_id: s.account for s in stacks.values() if "/" in s.path}
    links: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path, stack in sorted(stacks.items()):
        account = accounts.setdefault(
            stack.account, Account(stack.account, stack.account_id, stack.region)
        )
        counts = Counter(
            label for r in stack.resources.values() if (label := _label(r)) is not None
        )
        account.stacks[path.split("/")[-1]] = counts
        # An SCP names every account's deploy-path roles: guardrail data, not a link.
        linking = {
            k: r for k, r in stack.resources.items() if r["Type"] != "AWS::Organizations::Policy"
        }
        for text in _strings(linking):
            for service, account_id, resource in _ARN.findall(text):
                target = name_of_id.get(account_id)
                if target and target != stack.account:
                    links[(stack.account, target)].add(_kind(service, resource))
    rank = {name: index for index, name in enumerate(ORDER)}
    ordered = sorted(accounts, key=lambda name: (rank.get(name, len(ORDER)), name))
    return Picture({name: accounts[name] for name in ordered}, dict(links))


def plural(label: str, n: int) -> str:
    """`n` of a resource label, counted: "1 bucket", "2 buckets", "4 policies", "3 VPCs"."""
    if n == 1:
        return f"1 {label}"
    head, _, word = label.rpartition(" ")
    if word.isupper():  # an acronym: VPC -> VPCs, web ACL -> web ACLs, OU -> OUs
        word += "s"
    elif re.search(r"[^aeiou]y$", word):  # policy -> policies, repository -> repositories
        word = word[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", word):  # address -> addresses
        word += "es"
    else:
        word += "s"
    return f"{n} {head} {word}" if head else f"{n} {word}"


def _summary(counts: Counter) -> str:
    """A stack's main resources, most numerous first: "3 buckets, 1 Aurora cluster"."""
    return ", ".join(
        plural(label, n)
        for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
    )


def _id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def to_mermaid(picture: Picture) -> str:
    lines = ["flowchart LR"]
    for account in picture.accounts.values():
        lines.append(
            f'  subgraph {_id(account.name)}["{account.name} ({account.account_id}, '
            f'{account.region})"]'
        )
        for stack, counts in account.stacks.items():
            summary = _summary(counts) or "roles and policies"
            lines.append(f'    {_id(account.name)}_{_id(stack)}["{stack}: {summary}"]')
        lines.append("  end")
    for (source, target), kinds in sorted(picture.links.items()):
        label = "; ".join(sorted(kinds))
        lines.append(f'  {_id(source)} -- "{label}" --> {_id(target)}')
    return "\n".join(lines) + "\n"


# --- SVG: Graphviz lays it out -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
LAYOUT_SCRIPT = ROOT / "tools" / "graphviz_layout.mjs"
GRAPHVIZ_PACKAGE = ROOT / "node_modules" / "@hpcc-js" / "wasm-graphviz"
"""Graphviz compiled to WebAssembly, pinned in package.json; `npm ci` (make setup) installs it."""

FONT = "DejaVu Sans"
"""The font Graphviz sizes text for: the widest of the common sans fonts, so labels fit whichever
of them a viewer has; the SVG asks for these, in order."""
FONT_FAMILY = "Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif"
INK, PAPER, ACCOUNT_FILL, STACK_FILL, LINK = "#232f3e", "#ffffff", "#f4f7fb", "#ffffff", "#7a4f9a"
WRAP = 38
"""Characters per line of a stack's resources before the list wraps."""


def _wrap(text: str, width: int = WRAP) -> list[str]:
    """A comma-separated list cut into lines of at most `width` characters (between items)."""
    lines, current = [], ""
    for item in text.split(", "):
        candidate = f"{current}, {item}" if current else item
        if len(candidate) > width and current:
            lines.append(current + ",")
            current = item
        else:
            current = candidate
    return [*lines, current]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _stack_label(stack: str, counts: Counter, width: int | None = None) -> str:
    summary = _summary(counts) or "roles and policies"
    listed = "<BR/>".join(_html(line) for line in _wrap(summary))
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"'
        + (f' WIDTH="{width}">' if width else ">")
        + f'<TR><TD ALIGN="LEFT"><B>{_html(stack)}</B></TD></TR>'
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10">{listed}</FONT></TD></TR>'
        "</TABLE>>"
    )


def _link_label(picture: Picture, tail: str, head: str) -> str:
    """Every kind of link between two accounts, both ways, under who links to whom; an empty
    first column keeps the text clear of the edge, which Graphviz runs down the label's left."""
    cells = []
    for source, target in ((tail, head), (head, tail)):
        kinds = sorted(picture.links.get((source, target), ()))
        if kinds:
            if cells:
                cells.append('<TR><TD COLSPAN="2" HEIGHT="5"></TD></TR>')
            cells.append(
                f'<TR><TD WIDTH="8"></TD><TD ALIGN="LEFT"><B>{_html(f"{source} → {target}")}'
                "</B></TD></TR>"
            )
            cells += [f'<TR><TD></TD><TD ALIGN="LEFT">{_html(kind)}</TD></TR>' for kind in kinds]
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(cells)}</TABLE>>'


def _node_id(account: str, stack: str) -> str:
    return f"{_id(account)}__{_id(stack)}"


def rows(picture: Picture) -> list[list[str]]:
    """Accounts in rows, top to bottom: the hub (the account linked to the most others) in the
    middle, the accounts before it in promotion order (the organisation's own) above it, the
    ones after it (the workloads) below it, each row in promotion order. Two linked accounts
    never share a row (Graphviz draws a link within a row over a box): the later one goes a
    row nearer the hub."""
    degree = Counter(name for pair in picture.links for name in pair)
    names = list(picture.accounts)
    if not degree:
        return [names]
    hub = max(names, key=lambda name: (degree[name], -names.index(name)))
    at = names.index(hub)

    def apart(group: list[str]) -> list[list[str]]:
        split: list[list[str]] = []
        for name in group:
            free = [
                row
                for row in split
                if not any((name, o) in picture.links or (o, name) in picture.links for o in row)
            ]
            if free:
                free[0].append(name)
            else:
                split.append([name])
        return split

    above, below = apart(names[:at]), apart(names[at + 1 :])
    return [*above, [hub], *reversed(below)]


def pairs(picture: Picture) -> list[tuple[str, str]]:
    """Each pair of linked accounts once (whichever way the links go), in promotion order."""
    order = {name: index for index, name in enumerate(picture.accounts)}
    seen = {(a, b) if order[a] <= order[b] else (b, a) for a, b in picture.links}
    return sorted(seen, key=lambda pair: (order[pair[0]], order[pair[1]]))


def _graph_attributes() -> list[str]:
    return [
        f"  graph [rankdir=TB, compound=true, newrank=true, nodesep=0.3, ranksep=0.18, "
        f'fontname={_quote(FONT)}, fontsize=13, fontcolor="{INK}", bgcolor="{PAPER}", '
        "pad=0.3, labeljust=l];",
        f'  node [shape=box, style="rounded,filled", fillcolor="{STACK_FILL}", color="{INK}", '
        f'fontname={_quote(FONT)}, fontsize=12, fontcolor="{INK}", margin="0.12,0.06"];',
        f'  edge [color="{LINK}", fontcolor="{LINK}", fontname={_quote(FONT)}, fontsize=10, '
        "arrowsize=0.8, penwidth=1.2];",
    ]


def stack_widths(picture: Picture) -> dict[str, int]:
    """Account -> the width (points) of its widest stack label, as Graphviz sizes the text:
    every stack of an account is drawn that wide, so that its column reads as a list."""
    lines = ["digraph stacks {", *_graph_attributes(), "  node [shape=plain];"]
    for account in picture.accounts.values():
        for stack, counts in account.stacks.items():
            node = _node_id(account.name, stack)
            lines.append(f"  {node} [label={_stack_label(stack, counts)}];")
    width_of = {}
    for line in layout("\n".join([*lines, "}"]) + "\n", "plain").splitlines():
        if line.startswith("node "):
            _, node, _, _, width, *_ = line.split(" ", 5)
            width_of[node] = float(width) * 72
    return {
        account.name: math.ceil(
            max(width_of[_node_id(account.name, stack)] for stack in account.stacks)
        )
        for account in picture.accounts.values()
    }


def to_dot(picture: Picture, widths: Mapping[str, int] | None = None) -> str:
    """The picture as a Graphviz graph: a box (cluster) per account with a node per stack (its
    main resources) in a column, the accounts in rows, and one edge per pair of linked accounts
    labelled with every link between them, both ways. `widths` (from stack_widths) makes an
    account's stacks equally wide."""
    lines = ["digraph organisation {", *_graph_attributes()]
    top, bottom = {}, {}
    for account in picture.accounts.values():
        title = (
            '<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
            f'<TR><TD ALIGN="LEFT"><B>{_html(account.name)}</B></TD></TR>'
            f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="10">'
            f"{_html(f'{account.account_id}  ·  {account.region}')}</FONT></TD></TR></TABLE>>"
        )
        lines += [
            f"  subgraph cluster_{_id(account.name)} {{",
            f"    id={_quote('account-' + account.name)};",
            f'    label={title}; style="rounded,filled"; '
            f'fillcolor="{ACCOUNT_FILL}"; color="{INK}"; penwidth=1.5; margin=12;',
        ]
        width = widths[account.name] if widths else None
        nodes = [_node_id(account.name, stack) for stack in account.stacks]
        for node, (stack, counts) in zip(nodes, account.stacks.items(), strict=True):
            lines.append(
                f"    {node} [id={_quote(f'stack-{account.name}-{stack}')}, "
                f"label={_stack_label(stack, counts, width)}];"
            )
        if len(nodes) > 1:  # the stacks in a column, in the model's order
            lines.append(f"    {' -> '.join(nodes)} [style=invis, weight=100];")
        lines.append("  }")
        top[account.name], bottom[account.name] = nodes[0], nodes[-1]
    row_of = {}
    for index, row in enumerate(rows(picture)):
        # A row's accounts side by side, their first stacks level, in promotion order.
        firsts = [top[name] for name in row]
        lines.append(f"  {{ rank=same; {'; '.join(firsts)}; }}")
        if len(firsts) > 1:
            lines.append(f"  {' -> '.join(firsts)} [style=invis];")
        row_of.update(dict.fromkeys(row, index))
    for first, second in pairs(picture):
        # Graphviz ranks an edge's tail above its head: the pair's upper account is the tail
        # (and names the edge: link-<upper>-<lower>), the arrowheads say which way the links
        # go. The edge runs from the upper account's last stack to the lower one's first,
        # clipped to their boxes.
        tail, head = (second, first) if row_of[first] > row_of[second] else (first, second)
        forward, backward = (tail, head) in picture.links, (head, tail) in picture.links
        direction = "both" if forward and backward else "forward" if forward else "back"
        lines.append(
            f"  {bottom[tail]} -> {top[head]} [id={_quote(f'link-{tail}-{head}')}, "
            f"ltail=cluster_{_id(tail)}, lhead=cluster_{_id(head)}, dir={direction}, "
            f"label={_link_label(picture, tail, head)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node() -> str:
    """The pinned Node.js (the venv's, next to this Python), else the first on PATH."""
    beside = Path(sys.executable).parent / "node"
    found = str(beside) if beside.exists() else shutil.which("node")
    if found is None:
        raise RuntimeError("no Node.js to run Graphviz: run `make setup` (the venv brings Node 24)")
    return found


def layout(dot: str, output: str = "svg") -> str:
    """A DOT graph laid out by Graphviz's dot (WebAssembly, run by Node.js), as SVG or another
    of its output formats."""
    if not GRAPHVIZ_PACKAGE.is_dir():
        raise RuntimeError(f"no Graphviz at {GRAPHVIZ_PACKAGE}: run `make setup` (npm ci)")
    run = subprocess.run(
        [_node(), str(LAYOUT_SCRIPT), output, "dot"],
        input=dot,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"Graphviz failed: {run.stderr.strip()}")
    return run.stdout


def to_svg(picture: Picture) -> str:
    svg = layout(to_dot(picture, stack_widths(picture)))
    return svg.replace(f'font-family="{FONT}"', f'font-family="{FONT_FAMILY}"')


# --- README ---------------------------------------------------------------------------------------

START, END = "<!-- diagram:start (make diagram) -->", "<!-- diagram:end -->"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--readme", type=Path, default=None)
    args = parser.parse_args(argv)
    picture = read_picture(read_stacks(args.assembly))
    args.out.mkdir(parents=True, exist_ok=True)
    mermaid = to_mermaid(picture)
    (args.out / "architecture.mmd").write_text(mermaid, encoding="utf-8")
    started = time.perf_counter()
    try:
        svg = to_svg(picture)
    except RuntimeError as error:
        print(f"{args.out / 'architecture.svg'}: {error}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    (args.out / "architecture.svg").write_text(svg, encoding="utf-8")
    written = [args.out / "architecture.svg", args.out / "architecture.mmd"]
    if args.readme is not None:
        image = (args.out / "architecture.svg").as_posix()
        block = f"![The organisation]({image})\n\n```mermaid\n{mermaid}```"
        if not replace_block(args.readme, "diagram", block):
            print(f"{args.readme}: no diagram markers ({START} ... {END})", file=sys.stderr)
            return 1
        written.append(args.readme)
    print("wrote " + ", ".join(str(p) for p in written) + f" (Graphviz layout {took:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
