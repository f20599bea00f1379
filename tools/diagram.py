"""`make diagram`: the organisation as the synthesized assembly describes it.

    python -m tools.diagram [--assembly cdk.out] [--out docs] [--readme README.md]

Draws every account (stage) with its stacks and their main resources, and the links between
accounts that the templates themselves contain: an ARN of another account's role, secret or
key (the pipeline's deploy roles, Argo CD's hub and spokes, the health gate, ...). Writes
`architecture.svg` (plain SVG, no Graphviz needed) and `architecture.mmd` (Mermaid), and
replaces the block between the diagram markers in the README.
"""

from __future__ import annotations

import argparse
import html
import math
import re
import sys
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
    "AWS::GuardDuty::Detector": "GuardDuty",
    "Custom::GuardDutyDetector": "GuardDuty",
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
    (re.compile(r"^role/.*argocd-hub"), "trusts the Argo CD hub"),
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
        for text in _strings(stack.resources):
            for service, account_id, resource in _ARN.findall(text):
                target = name_of_id.get(account_id)
                if target and target != stack.account:
                    links[(stack.account, target)].add(_kind(service, resource))
    rank = {name: index for index, name in enumerate(ORDER)}
    ordered = sorted(accounts, key=lambda name: (rank.get(name, len(ORDER)), name))
    return Picture({name: accounts[name] for name in ordered}, dict(links))


def _summary(counts: Counter) -> str:
    return ", ".join(
        f"{n} {label}s" if n > 1 and not label.endswith("s") else f"{n} {label}" if n > 1 else label
        for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
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


# --- SVG ------------------------------------------------------------------------------------------

BOX_W, LINE_H, PAD, GAP, COLUMNS = 360, 18, 12, 90, 4


def _box_lines(account: Account) -> list[tuple[str, bool]]:
    lines = [(f"{account.name}  ·  {account.account_id}  ·  {account.region}", True)]
    for stack, counts in account.stacks.items():
        lines.append((stack, True))
        summary = _summary(counts) or "roles and policies"
        for chunk in _wrap(summary, 52):
            lines.append((f"  {chunk}", False))
    return lines


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = text.split(", "), [], ""
    for word in words:
        candidate = f"{current}, {word}" if current else word
        if len(candidate) > width and current:
            lines.append(current + ",")
            current = word
        else:
            current = candidate
    return [*lines, current]


def to_svg(picture: Picture) -> str:
    boxes: dict[str, tuple[float, float, float, float]] = {}
    content: dict[str, list[tuple[str, bool]]] = {}
    rows: list[list[str]] = []
    names = list(picture.accounts)
    for start in range(0, len(names), COLUMNS):
        rows.append(names[start : start + COLUMNS])
    y = GAP / 2
    for row in rows:
        heights = []
        for column, name in enumerate(row):
            content[name] = _box_lines(picture.accounts[name])
            height = PAD * 2 + LINE_H * len(content[name])
            heights.append(height)
            boxes[name] = (GAP / 2 + column * (BOX_W + GAP), y, BOX_W, height)
        y += max(heights) + GAP
    width = GAP + COLUMNS * (BOX_W + GAP) - GAP
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{y:.0f}" '
        f'viewBox="0 0 {width:.0f} {y:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#7a4f9a"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{y:.0f}" fill="#ffffff"/>',
    ]
    for name, (bx, by, bw, bh) in boxes.items():
        out.append(
            f'<rect x="{bx:.0f}" y="{by:.0f}" width="{bw}" height="{bh}" rx="8" '
            'fill="#f4f7fb" stroke="#232f3e" stroke-width="1.5"/>'
        )
        for index, (text, bold) in enumerate(content[name]):
            weight = ' font-weight="bold"' if bold else ""
            out.append(
                f'<text x="{bx + PAD:.0f}" y="{by + PAD + LINE_H * (index + 0.8):.0f}"'
                f"{weight}>{html.escape(text)}</text>"
            )
    for index, ((source, target), kinds) in enumerate(sorted(picture.links.items())):
        (x1, y1), (x2, y2) = _edge(boxes[source], boxes[target])
        bend = 40 + 12 * (index % 4)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        length = math.hypot(x2 - x1, y2 - y1) or 1
        cx, cy = mx - (y2 - y1) / length * bend, my + (x2 - x1) / length * bend
        out.append(
            f'<path d="M {x1:.0f} {y1:.0f} Q {cx:.0f} {cy:.0f} {x2:.0f} {y2:.0f}" fill="none" '
            'stroke="#7a4f9a" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
        out.append(
            f'<text x="{(mx + cx) / 2:.0f}" y="{(my + cy) / 2:.0f}" fill="#7a4f9a" '
            f'text-anchor="middle" font-size="11">{html.escape("; ".join(sorted(kinds)))}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge(a: tuple, b: tuple) -> tuple[tuple[float, float], tuple[float, float]]:
    """Points on the borders of boxes a and b facing each other."""

    def border(box, toward):
        x, y, w, h = box
        cx, cy = x + w / 2, y + h / 2
        dx, dy = toward[0] - cx, toward[1] - cy
        scale = min((w / 2) / abs(dx) if dx else math.inf, (h / 2) / abs(dy) if dy else math.inf)
        return cx + dx * scale, cy + dy * scale

    centre_a = (a[0] + a[2] / 2, a[1] + a[3] / 2)
    centre_b = (b[0] + b[2] / 2, b[1] + b[3] / 2)
    return border(a, centre_b), border(b, centre_a)


# --- README ---------------------------------------------------------------------------------------

START, END = "<!-- diagram:start (make diagram) -->", "<!-- diagram:end -->"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--readme", type=Path, default=None)
    args = parser.parse_args(argv)
    picture = read_picture(read_stacks(args.assembly))
    args.out.mkdir(parents=True, exist_ok=True)
    mermaid = to_mermaid(picture)
    (args.out / "architecture.mmd").write_text(mermaid, encoding="utf-8")
    (args.out / "architecture.svg").write_text(to_svg(picture), encoding="utf-8")
    written = [args.out / "architecture.svg", args.out / "architecture.mmd"]
    if args.readme is not None:
        svg = (args.out / "architecture.svg").as_posix()
        block = f"![The organisation]({svg})\n\n```mermaid\n{mermaid}```"
        if not replace_block(args.readme, "diagram", block):
            print(f"{args.readme}: no diagram markers ({START} ... {END})", file=sys.stderr)
            return 1
        written.append(args.readme)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
