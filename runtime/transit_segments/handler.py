"""The Transit Gateway's segmentation, applied by its owner (the hub account).

The gateway accepts no shared attachment on its own, associates none with a route table and
propagates none (`AutoAcceptSharedAttachments`, `DefaultRouteTableAssociation`,
`DefaultRouteTablePropagation` all `disable`). CloudFormation has no resource that accepts an
attachment, and a spoke's attachment id exists only once the spoke has deployed, after the
hub; so this function does it, from the plan the hub stack gives it (the custom resource's
properties, and the same plan as the input of a schedule that runs it every minute):

    {"TransitGatewayId": "tgw-...",
     "Segments": [{"Name": "dev", "Account": "444...", "Cidr": "10.16.0.0/16",
                   "RouteTable": "tgw-rtb-...", "Routes": ["shared-services"]}, ...]}

For each segment (one attached account):

- its attachment is the oldest attachment owned by that account that is already accepted;
  if there is none, its oldest attachment pending acceptance is accepted. Attachments of any
  other account, and further attachments of a segment's account, are never accepted;
- that attachment is associated with the segment's route table (and nothing else is);
- the segment's route table holds one static route per account in `Routes` (its VPC CIDR
  from config, to that account's attachment) and nothing else: other static routes are
  deleted and propagations into it disabled. Static routes, not propagation, so a spoke that
  adds a CIDR to its VPC cannot draw another segment's traffic to itself.

Only an `available` attachment is associated or routed to. One that is not yet (just
accepted: `pending`; or `modifying`) leaves its segment as it is (its table's association,
and the routes to it in other tables) until a later run finds it `available`. A scheduled run
never waits: it accepts, applies what is ready and returns within seconds, so runs a minute
apart do not overlap. A deployment (the custom resource) waits up to `WAIT_SECONDS` for the
attachments it accepted, all at once, and retries the whole plan if a concurrent scheduled run
changed something under it (an AWS error on a change, such as `IncorrectState`).

Why this matters on the first deployment: a spoke's CloudFormation does not finish creating
its `AWS::EC2::TransitGatewayAttachment` until the attachment is `available` (the resource
handler stabilises on `available` only; it waits up to its default handler timeout of 120
minutes), and on this gateway that needs this function to accept it first. The spoke's VPC
routes depend on the attachment, so they are created only once it is `available`.

Every step reads first and changes only what differs, so a re-run is a no-op. On delete the
function does nothing: the route tables go with the stack.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

LIVE = ("available", "pending", "modifying", "pendingAcceptance", "initiating", "initiatingRequest")
"""Attachment states that hold (or will hold) a VPC: anything else is going or gone."""
WAIT_SECONDS = 240
"""How long a deployment waits for the attachments it accepted (the function may run 300 s)."""
POLL_SECONDS = 5
ATTEMPTS = 3
"""Runs of the plan a deployment makes when a concurrent run changed something under it."""

Event = Mapping[str, Any]


@dataclass(frozen=True)
class Attachment:
    id: str
    owner: str
    state: str
    created: str
    route_table: str | None
    """The route table it is associated with, if any."""


def attachments_of(ec2: Any, gateway: str) -> list[Attachment]:
    found = []
    paginator = ec2.get_paginator("describe_transit_gateway_attachments")
    for page in paginator.paginate(
        Filters=[
            {"Name": "transit-gateway-id", "Values": [gateway]},
            {"Name": "resource-type", "Values": ["vpc"]},
        ]
    ):
        for item in page["TransitGatewayAttachments"]:
            if item["State"] not in LIVE:
                continue
            association = item.get("Association") or {}
            found.append(
                Attachment(
                    id=item["TransitGatewayAttachmentId"],
                    owner=item["ResourceOwnerId"],
                    state=item["State"],
                    created=str(item.get("CreationTime", "")),
                    route_table=association.get("TransitGatewayRouteTableId")
                    if association.get("State") in ("associated", "associating")
                    else None,
                )
            )
    return sorted(found, key=lambda a: (a.created, a.id))


def choose(account: str, attachments: Iterable[Attachment]) -> tuple[Attachment | None, bool]:
    """The attachment of `account`'s segment, and whether it must be accepted first."""
    owned = [a for a in attachments if a.owner == account]
    accepted = [a for a in owned if a.state not in ("pendingAcceptance", "initiatingRequest")]
    if accepted:
        return accepted[0], False
    pending = [a for a in owned if a.state == "pendingAcceptance"]
    return (pending[0], True) if pending else (None, False)


class Segments:
    def __init__(self, ec2: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ec2 = ec2
        self.sleep = sleep

    def apply(self, plan: Mapping[str, Any], wait_seconds: float = 0) -> dict[str, str]:
        """Accept, associate and route; `wait_seconds`: how long to wait for attachments
        accepted now to become `available` (0: not at all, a later run finishes them)."""
        gateway = plan["TransitGatewayId"]
        segments = plan["Segments"]
        attachments = attachments_of(self.ec2, gateway)
        chosen: dict[str, Attachment] = {}
        for segment in segments:
            attachment, accept = choose(segment["Account"], attachments)
            if attachment is None:
                LOG.info("%s has no attachment yet", segment["Name"])
                continue
            if accept:
                self.accept(attachment.id, segment["Name"])
                attachment = replace(attachment, state="pending")
            chosen[segment["Name"]] = attachment
        states = {a.id: a.state for a in chosen.values()}
        not_ready = [id_ for id_, state in states.items() if state != "available"]
        if not_ready and wait_seconds > 0:
            states.update(self.wait_available(not_ready, wait_seconds))
        ready = {n: a for n, a in chosen.items() if states[a.id] == "available"}
        waiting = {n for n in chosen if n not in ready}
        for name in sorted(waiting):
            attachment_id = chosen[name].id
            LOG.info(
                "%s: %s is %s, a later run connects it", name, attachment_id, states[attachment_id]
            )
        for segment in segments:
            if segment["Name"] not in waiting:
                self.associate(segment["RouteTable"], ready.get(segment["Name"]))
        cidrs = {s["Name"]: s["Cidr"] for s in segments}
        for segment in segments:
            targets = [t for t in segment["Routes"] if t in cidrs]
            wanted = {cidrs[t]: ready[t].id for t in targets if t in ready}
            keep = {cidrs[t] for t in targets if t in waiting}
            self.route(segment["RouteTable"], wanted, keep)
        return {name: attachment.id for name, attachment in sorted(ready.items())}

    def accept(self, attachment_id: str, segment: str) -> None:
        LOG.info("accepting %s of %s", attachment_id, segment)
        try:
            self.ec2.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
        except ClientError as error:
            # Another run (the schedule, or a deployment) accepted it a moment ago.
            if error.response.get("Error", {}).get("Code") != "IncorrectState":
                raise
            LOG.info("%s was accepted already", attachment_id)

    def wait_available(self, attachment_ids: list[str], seconds: float) -> dict[str, str]:
        """Poll `attachment_ids` together until all are `available` or `seconds` pass; their
        last states."""
        deadline = time.monotonic() + seconds
        while True:
            states = {
                item["TransitGatewayAttachmentId"]: item["State"]
                for item in self.ec2.describe_transit_gateway_attachments(
                    TransitGatewayAttachmentIds=attachment_ids
                )["TransitGatewayAttachments"]
            }
            if all(state == "available" for state in states.values()):
                return states
            if time.monotonic() > deadline:
                return states
            self.sleep(POLL_SECONDS)

    def associate(self, table: str, attachment: Attachment | None) -> None:
        """`attachment` (only) is associated with `table`."""
        current = self.ec2.get_transit_gateway_route_table_associations(
            TransitGatewayRouteTableId=table
        )["Associations"]
        for association in current:
            if attachment is None or association["TransitGatewayAttachmentId"] != attachment.id:
                self.ec2.disassociate_transit_gateway_route_table(
                    TransitGatewayRouteTableId=table,
                    TransitGatewayAttachmentId=association["TransitGatewayAttachmentId"],
                )
        if attachment is None or any(
            a["TransitGatewayAttachmentId"] == attachment.id for a in current
        ):
            return
        if attachment.route_table is not None and attachment.route_table != table:
            # An attachment has one association: leave the old table first (e.g. the default
            # route table of a gateway made before segmentation).
            self.ec2.disassociate_transit_gateway_route_table(
                TransitGatewayRouteTableId=attachment.route_table,
                TransitGatewayAttachmentId=attachment.id,
            )
            self.wait_unassociated(attachment.id)
        self.ec2.associate_transit_gateway_route_table(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachment.id
        )

    def wait_unassociated(self, attachment_id: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            (item,) = self.ec2.describe_transit_gateway_attachments(
                TransitGatewayAttachmentIds=[attachment_id]
            )["TransitGatewayAttachments"]
            if not item.get("Association"):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{attachment_id} is still associated")
            self.sleep(POLL_SECONDS)

    def route(self, table: str, wanted: Mapping[str, str], keep: Iterable[str] = ()) -> None:
        """`table` holds exactly the static routes `wanted` (CIDR -> attachment), no
        propagation; routes to the CIDRs in `keep` (segments whose attachment is not
        `available` yet) are left as they are."""
        for propagation in self.ec2.get_transit_gateway_route_table_propagations(
            TransitGatewayRouteTableId=table
        )["TransitGatewayRouteTablePropagations"]:
            self.ec2.disable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=table,
                TransitGatewayAttachmentId=propagation["TransitGatewayAttachmentId"],
            )
        routes = self.ec2.search_transit_gateway_routes(
            TransitGatewayRouteTableId=table,
            Filters=[{"Name": "type", "Values": ["static"]}],
        )["Routes"]
        present = {}
        for route in routes:
            targets = route.get("TransitGatewayAttachments") or [{}]
            present[route["DestinationCidrBlock"]] = targets[0].get("TransitGatewayAttachmentId")
        kept = set(keep)
        for cidr in present:
            if cidr not in wanted and cidr not in kept:
                self.ec2.delete_transit_gateway_route(
                    TransitGatewayRouteTableId=table, DestinationCidrBlock=cidr
                )
        for cidr, target in wanted.items():
            if cidr not in present:
                self.ec2.create_transit_gateway_route(
                    TransitGatewayRouteTableId=table,
                    DestinationCidrBlock=cidr,
                    TransitGatewayAttachmentId=target,
                )
            elif present[cidr] != target:
                self.ec2.replace_transit_gateway_route(
                    TransitGatewayRouteTableId=table,
                    DestinationCidrBlock=cidr,
                    TransitGatewayAttachmentId=target,
                )


def send_response(event: Event, status: str, reason: str, data: Mapping[str, str]) -> None:
    """PUT the result to CloudFormation's pre-signed URL (the cfn-response protocol)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": "transit-segments",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(data),
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        LOG.info("CloudFormation answered %s", response.status)


def handler(
    event: Event,
    context: Any,
    *,
    ec2: Any = None,
    respond: Callable[[Event, str, str, Mapping[str, str]], None] = send_response,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """From CloudFormation (a custom resource: always answer it) or from the schedule (the
    event is the plan itself)."""
    client = ec2 or boto3.client("ec2")
    if "RequestType" not in event:
        return Segments(client).apply(event)  # the schedule: never waits
    try:
        data = (
            {}
            if event["RequestType"] == "Delete"
            else apply_for_deployment(Segments(client, sleep), event["ResourceProperties"])
        )
    except Exception as error:  # answer with the reason instead of timing out
        LOG.exception("%s failed", event["RequestType"])
        respond(event, "FAILED", f"{type(error).__name__}: {error}", {})
        return {}
    respond(event, "SUCCESS", "done", data)
    return data


def apply_for_deployment(segments: Segments, plan: Mapping[str, Any]) -> dict[str, str]:
    """The plan, waiting for what it accepts; run again when a scheduled run raced it (the
    plan is read-then-converge, so a second run sees what the other run did)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return segments.apply(plan, wait_seconds=WAIT_SECONDS)
        except ClientError:
            if attempt == ATTEMPTS:
                raise
            LOG.exception("run %d of the plan failed; running it again", attempt)
            segments.sleep(POLL_SECONDS)
    raise AssertionError("unreachable")
