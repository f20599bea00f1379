"""The Transit Gateway's segmentation, applied by its owner (the hub account).

The gateway accepts no shared attachment on its own, associates none with a route table and
propagates none (`AutoAcceptSharedAttachments`, `DefaultRouteTableAssociation`,
`DefaultRouteTablePropagation` all `disable`). CloudFormation has no resource that accepts an
attachment, and a spoke's attachment id exists only once the spoke has deployed, after the
hub; so this function does it, from the plan the hub stack gives it (the custom resource's
properties, and the same plan as the input of a schedule that runs it every few minutes):

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

Every step reads first and changes only what differs, so a re-run is a no-op. On delete the
function does nothing: the route tables go with the stack.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

LIVE = ("available", "pending", "modifying", "pendingAcceptance", "initiating", "initiatingRequest")
"""Attachment states that hold (or will hold) a VPC: anything else is going or gone."""
WAIT_SECONDS = 240
POLL_SECONDS = 5

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

    def apply(self, plan: Mapping[str, Any]) -> dict[str, str]:
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
                LOG.info("accepting %s of %s", attachment.id, segment["Name"])
                self.ec2.accept_transit_gateway_vpc_attachment(
                    TransitGatewayAttachmentId=attachment.id
                )
            if attachment.state != "available":
                self.wait_available(attachment.id)
            chosen[segment["Name"]] = attachment
        for segment in segments:
            self.associate(segment["RouteTable"], chosen.get(segment["Name"]))
        cidrs = {s["Name"]: s["Cidr"] for s in segments}
        for segment in segments:
            wanted = {
                cidrs[target]: chosen[target].id
                for target in segment["Routes"]
                if target in chosen and target in cidrs
            }
            self.route(segment["RouteTable"], wanted)
        return {name: attachment.id for name, attachment in sorted(chosen.items())}

    def wait_available(self, attachment_id: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            (item,) = self.ec2.describe_transit_gateway_attachments(
                TransitGatewayAttachmentIds=[attachment_id]
            )["TransitGatewayAttachments"]
            if item["State"] == "available":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{attachment_id} is still {item['State']}")
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

    def route(self, table: str, wanted: Mapping[str, str]) -> None:
        """`table` holds exactly the static routes `wanted` (CIDR -> attachment), no
        propagation."""
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
        for cidr in present:
            if cidr not in wanted:
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
) -> dict[str, str]:
    """From CloudFormation (a custom resource: always answer it) or from the schedule (the
    event is the plan itself)."""
    client = ec2 or boto3.client("ec2")
    if "RequestType" not in event:
        return Segments(client).apply(event)
    try:
        data = (
            {}
            if event["RequestType"] == "Delete"
            else Segments(client).apply(event["ResourceProperties"])
        )
    except Exception as error:  # answer with the reason instead of timing out
        LOG.exception("%s failed", event["RequestType"])
        respond(event, "FAILED", f"{type(error).__name__}: {error}", {})
        return {}
    respond(event, "SUCCESS", "done", data)
    return data
