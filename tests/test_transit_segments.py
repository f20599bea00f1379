"""The function that applies the hub's segments (runtime/transit_segments/handler.py),
against an in-memory Transit Gateway: moto does not accept VPC attachments."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from runtime.transit_segments import handler as segments

HUB, DEV, PROD, STRANGER = "333333333333", "444444444444", "666666666666", "999999999999"


class FakeEc2:
    """The EC2 calls the handler makes, over attachments, associations, propagations and
    static routes held in dicts; every change is recorded in `calls`."""

    def __init__(self, attachments: list[dict[str, Any]], settle_polls: int = 1) -> None:
        """An accepted attachment is `pending` until `settle_polls` describes by id."""
        self.attachments = {a["TransitGatewayAttachmentId"]: a for a in attachments}
        self.settle_polls = settle_polls
        self.polls: dict[str, int] = {}
        self.associations: dict[str, str] = {}  # attachment -> table
        for a in attachments:
            if a.get("Association"):
                self.associations[a["TransitGatewayAttachmentId"]] = a["Association"][
                    "TransitGatewayRouteTableId"
                ]
        self.propagations: set[tuple[str, str]] = set()  # (table, attachment)
        self.routes: dict[str, dict[str, str]] = {}  # table -> CIDR -> attachment
        self.calls: list[tuple[str, ...]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_transit_gateway_attachments"
        fake = self

        class Paginator:
            def paginate(self, Filters: list) -> list:
                return [fake.describe_transit_gateway_attachments()]

        return Paginator()

    def describe_transit_gateway_attachments(self, TransitGatewayAttachmentIds=None):
        found = []
        for id_, a in self.attachments.items():
            if TransitGatewayAttachmentIds and id_ not in TransitGatewayAttachmentIds:
                continue
            if TransitGatewayAttachmentIds and a["State"] == "pending":
                self.polls[id_] = self.polls.get(id_, 0) + 1
                if self.polls[id_] >= self.settle_polls:
                    a["State"] = "available"
            table = self.associations.get(id_)
            found.append(
                {
                    **a,
                    "Association": (
                        {"TransitGatewayRouteTableId": table, "State": "associated"}
                        if table
                        else None
                    ),
                }
            )
        return {"TransitGatewayAttachments": found}

    def accept_transit_gateway_vpc_attachment(self, TransitGatewayAttachmentId):
        if self.attachments[TransitGatewayAttachmentId]["State"] != "pendingAcceptance":
            raise ClientError(
                {"Error": {"Code": "IncorrectState", "Message": "not pendingAcceptance"}},
                "AcceptTransitGatewayVpcAttachment",
            )
        self.attachments[TransitGatewayAttachmentId]["State"] = "pending"
        self.calls.append(("accept", TransitGatewayAttachmentId))

    def settle(self) -> None:
        """Minutes pass: every accepted attachment is available."""
        for a in self.attachments.values():
            if a["State"] == "pending":
                a["State"] = "available"

    def get_transit_gateway_route_table_associations(self, TransitGatewayRouteTableId):
        return {
            "Associations": [
                {"TransitGatewayAttachmentId": a}
                for a, t in self.associations.items()
                if t == TransitGatewayRouteTableId
            ]
        }

    def associate_transit_gateway_route_table(
        self, TransitGatewayRouteTableId, TransitGatewayAttachmentId
    ):
        assert TransitGatewayAttachmentId not in self.associations  # one association each
        self.associations[TransitGatewayAttachmentId] = TransitGatewayRouteTableId
        self.calls.append(("associate", TransitGatewayRouteTableId, TransitGatewayAttachmentId))

    def disassociate_transit_gateway_route_table(
        self, TransitGatewayRouteTableId, TransitGatewayAttachmentId
    ):
        assert self.associations.pop(TransitGatewayAttachmentId) == TransitGatewayRouteTableId
        self.calls.append(("disassociate", TransitGatewayRouteTableId, TransitGatewayAttachmentId))

    def get_transit_gateway_route_table_propagations(self, TransitGatewayRouteTableId):
        return {
            "TransitGatewayRouteTablePropagations": [
                {"TransitGatewayAttachmentId": a}
                for t, a in self.propagations
                if t == TransitGatewayRouteTableId
            ]
        }

    def disable_transit_gateway_route_table_propagation(
        self, TransitGatewayRouteTableId, TransitGatewayAttachmentId
    ):
        self.propagations.remove((TransitGatewayRouteTableId, TransitGatewayAttachmentId))
        self.calls.append(("unpropagate", TransitGatewayRouteTableId, TransitGatewayAttachmentId))

    def search_transit_gateway_routes(self, TransitGatewayRouteTableId, Filters):
        return {
            "Routes": [
                {
                    "DestinationCidrBlock": cidr,
                    "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": a}],
                }
                for cidr, a in self.routes.get(TransitGatewayRouteTableId, {}).items()
            ]
        }

    def create_transit_gateway_route(
        self, TransitGatewayRouteTableId, DestinationCidrBlock, TransitGatewayAttachmentId
    ):
        table = self.routes.setdefault(TransitGatewayRouteTableId, {})
        assert DestinationCidrBlock not in table
        table[DestinationCidrBlock] = TransitGatewayAttachmentId
        self.calls.append(("route", TransitGatewayRouteTableId, DestinationCidrBlock))

    def replace_transit_gateway_route(
        self, TransitGatewayRouteTableId, DestinationCidrBlock, TransitGatewayAttachmentId
    ):
        self.routes[TransitGatewayRouteTableId][DestinationCidrBlock] = TransitGatewayAttachmentId
        self.calls.append(("reroute", TransitGatewayRouteTableId, DestinationCidrBlock))

    def delete_transit_gateway_route(self, TransitGatewayRouteTableId, DestinationCidrBlock):
        del self.routes[TransitGatewayRouteTableId][DestinationCidrBlock]
        self.calls.append(("unroute", TransitGatewayRouteTableId, DestinationCidrBlock))


def attachment(id_: str, owner: str, state: str, created: str = "2026-01-01", **extra) -> dict:
    return {
        "TransitGatewayAttachmentId": id_,
        "ResourceOwnerId": owner,
        "State": state,
        "CreationTime": created,
        **extra,
    }


PLAN = {
    "TransitGatewayId": "tgw-1",
    "Segments": [
        {"Name": "shared-services", "Account": HUB, "Cidr": "10.0.0.0/16",
         "RouteTable": "rtb-hub", "Routes": ["dev", "prod"]},
        {"Name": "dev", "Account": DEV, "Cidr": "10.16.0.0/16",
         "RouteTable": "rtb-dev", "Routes": ["shared-services"]},
        {"Name": "prod", "Account": PROD, "Cidr": "10.48.0.0/16",
         "RouteTable": "rtb-prod", "Routes": ["shared-services"]},
    ],
}  # fmt: skip


def reach(ec2: FakeEc2) -> set[tuple[str, str]]:
    """(source, destination) segment pairs the gateway forwards, from its tables alone."""
    owner = {
        a["TransitGatewayAttachmentId"]: a["ResourceOwnerId"] for a in ec2.attachments.values()
    }
    name = {s["Account"]: s["Name"] for s in PLAN["Segments"]}
    return {
        (name[owner[source]], name[owner[target]])
        for source, table in ec2.associations.items()
        for target in ec2.routes.get(table, {}).values()
    }


def test_each_segment_account_gets_one_attachment_accepted_associated_and_routed():
    ec2 = FakeEc2([
        attachment("att-hub", HUB, "available"),
        attachment("att-dev", DEV, "pendingAcceptance"),
        attachment("att-dev-2", DEV, "pendingAcceptance", created="2026-02-01"),
        attachment("att-prod", PROD, "pendingAcceptance"),
        attachment("att-stranger", STRANGER, "pendingAcceptance"),
    ])  # fmt: skip
    answer = segments.Segments(ec2, sleep=lambda _: None).apply(PLAN, wait_seconds=60)
    assert answer == {"dev": "att-dev", "prod": "att-prod", "shared-services": "att-hub"}
    assert [c for c in ec2.calls if c[0] == "accept"] == [
        ("accept", "att-dev"),
        ("accept", "att-prod"),
    ]
    assert ec2.attachments["att-dev-2"]["State"] == "pendingAcceptance"  # one per account
    assert ec2.attachments["att-stranger"]["State"] == "pendingAcceptance"
    assert ec2.associations == {"att-hub": "rtb-hub", "att-dev": "rtb-dev", "att-prod": "rtb-prod"}
    assert ec2.routes == {
        "rtb-hub": {"10.16.0.0/16": "att-dev", "10.48.0.0/16": "att-prod"},
        "rtb-dev": {"10.0.0.0/16": "att-hub"},
        "rtb-prod": {"10.0.0.0/16": "att-hub"},
    }
    assert ("dev", "prod") not in reach(ec2) and ("prod", "dev") not in reach(ec2)
    ec2.calls.clear()
    segments.Segments(ec2, sleep=lambda _: None).apply(PLAN)
    assert ec2.calls == []  # a re-run changes nothing


DEFAULT_TABLE = {"TransitGatewayRouteTableId": "rtb-default", "State": "associated"}


def test_a_hand_made_route_association_or_propagation_is_undone():
    ec2 = FakeEc2([
        attachment("att-hub", HUB, "available"),
        # made before segmentation: in the gateway's default route table
        attachment("att-dev", DEV, "available", Association=DEFAULT_TABLE),
        attachment("att-prod", PROD, "available"),
    ])  # fmt: skip
    ec2.routes["rtb-dev"] = {"10.48.0.0/16": "att-prod", "10.0.0.0/16": "att-prod"}
    ec2.propagations.add(("rtb-dev", "att-prod"))
    segments.Segments(ec2, sleep=lambda _: None).apply(PLAN)
    assert ec2.associations["att-dev"] == "rtb-dev"
    assert ec2.routes["rtb-dev"] == {"10.0.0.0/16": "att-hub"}
    assert not ec2.propagations
    assert ("disassociate", "rtb-default", "att-dev") in ec2.calls


@pytest.mark.parametrize("kind", ["Create", "Update", "Delete"])
def test_cloudformation_always_gets_an_answer(kind):
    answers = []
    event = {"RequestType": kind, "ResourceProperties": PLAN, "StackId": "s", "RequestId": "r",
             "LogicalResourceId": "l", "ResponseURL": "https://example.invalid"}  # fmt: skip
    segments.handler(event, None, ec2=FakeEc2([]), respond=lambda e, s, r, d: answers.append(s))
    assert answers == ["SUCCESS"]

    class Broken(FakeEc2):
        def get_paginator(self, name):
            raise RuntimeError("throttled")

    answers.clear()
    segments.handler(event, None, ec2=Broken([]), respond=lambda e, s, r, d: answers.append(s))
    assert answers == (["SUCCESS"] if kind == "Delete" else ["FAILED"])


def test_the_schedule_passes_the_plan_itself_and_never_waits():
    ec2 = FakeEc2([attachment("att-dev", DEV, "pendingAcceptance")])
    slept = []
    assert segments.handler(PLAN, None, ec2=ec2, sleep=slept.append) == {}
    assert ec2.attachments["att-dev"]["State"] == "pending"  # accepted, not waited for
    assert slept == []
    ec2.settle()
    assert segments.handler(PLAN, None, ec2=ec2) == {"dev": "att-dev"}


def deployment(kind: str) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": PLAN, "StackId": "s", "RequestId": "r",
            "LogicalResourceId": "l", "ResponseURL": "https://example.invalid"}  # fmt: skip


def test_a_first_deployment_of_the_spokes_is_connected_by_two_scheduled_runs():
    """The spokes' CloudFormation waits until its attachment is `available`, which needs the
    hub to accept it: one run accepts every spoke that asked (without waiting for any), the
    next run after they are available associates and routes them."""
    ec2 = FakeEc2([
        attachment("att-hub", HUB, "available", Association={
            "TransitGatewayRouteTableId": "rtb-hub", "State": "associated"}),
        attachment("att-dev", DEV, "pendingAcceptance"),
        attachment("att-prod", PROD, "pendingAcceptance"),
    ], settle_polls=99)  # fmt: skip
    run = segments.Segments(ec2, sleep=lambda _: pytest.fail("a scheduled run never waits"))
    assert run.apply(PLAN) == {"shared-services": "att-hub"}
    assert [c for c in ec2.calls if c[0] == "accept"] == [
        ("accept", "att-dev"),
        ("accept", "att-prod"),
    ]
    assert ec2.associations == {"att-hub": "rtb-hub"}  # the spokes' tables wait for them
    ec2.settle()
    assert run.apply(PLAN) == {"dev": "att-dev", "prod": "att-prod", "shared-services": "att-hub"}
    assert ec2.associations == {"att-hub": "rtb-hub", "att-dev": "rtb-dev", "att-prod": "rtb-prod"}
    assert ec2.routes["rtb-hub"] == {"10.16.0.0/16": "att-dev", "10.48.0.0/16": "att-prod"}
    ec2.calls.clear()
    run.apply(PLAN)
    assert ec2.calls == []


def test_a_deployment_waits_for_every_attachment_it_accepted_at_once():
    ec2 = FakeEc2([
        attachment("att-hub", HUB, "available"),
        attachment("att-dev", DEV, "pendingAcceptance"),
        attachment("att-prod", PROD, "pendingAcceptance"),
    ], settle_polls=3)  # fmt: skip
    slept: list[float] = []
    answers = []
    event = deployment("Update")
    data = segments.handler(
        event, None, ec2=ec2, sleep=slept.append, respond=lambda e, s, r, d: answers.append(s)
    )
    assert answers == ["SUCCESS"]
    assert data == {"dev": "att-dev", "prod": "att-prod", "shared-services": "att-hub"}
    assert len(slept) == 2  # both polled together, not one after the other


def test_an_attachment_that_is_not_available_keeps_its_association_and_routes():
    """A spoke's attachment `modifying` (e.g. its subnets change) is not disconnected."""
    associated = {"TransitGatewayRouteTableId": "rtb-dev", "State": "associated"}
    ec2 = FakeEc2([
        attachment("att-hub", HUB, "available"),
        attachment("att-dev", DEV, "modifying", Association=associated),
    ])  # fmt: skip
    ec2.routes["rtb-hub"] = {"10.16.0.0/16": "att-dev"}
    ec2.routes["rtb-dev"] = {"10.0.0.0/16": "att-hub"}
    segments.Segments(ec2, sleep=lambda _: None).apply(PLAN)
    assert ec2.associations["att-dev"] == "rtb-dev"
    assert ec2.routes["rtb-hub"] == {"10.16.0.0/16": "att-dev"}
    assert not [c for c in ec2.calls if c[0] in ("disassociate", "unroute")]


def test_an_attachment_accepted_by_a_concurrent_run_is_not_an_error():
    ec2 = FakeEc2([attachment("att-dev", DEV, "pendingAcceptance")])
    (found,) = segments.attachments_of(ec2, "tgw-1")
    ec2.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId="att-dev")  # the other
    run = segments.Segments(ec2, sleep=lambda _: None)
    run.accept(found.id, "dev")  # IncorrectState: accepted already
    assert ec2.attachments["att-dev"]["State"] == "pending"


def test_a_deployment_runs_the_plan_again_when_a_concurrent_run_raced_it():
    class Raced(FakeEc2):
        raced = False

        def associate_transit_gateway_route_table(self, **kwargs):
            if not self.raced:  # the schedule associated it a moment before
                self.raced = True
                super().associate_transit_gateway_route_table(**kwargs)
                raise ClientError(
                    {"Error": {"Code": "Resource.AlreadyAssociated", "Message": "x"}},
                    "AssociateTransitGatewayRouteTable",
                )
            super().associate_transit_gateway_route_table(**kwargs)

    ec2 = Raced([attachment("att-hub", HUB, "available"), attachment("att-dev", DEV, "available")])
    answers = []
    event = deployment("Create")
    segments.handler(
        event, None, ec2=ec2, sleep=lambda _: None, respond=lambda e, s, r, d: answers.append(s)
    )
    assert answers == ["SUCCESS"]
    assert ec2.associations == {"att-hub": "rtb-hub", "att-dev": "rtb-dev"}
