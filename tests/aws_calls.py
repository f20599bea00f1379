"""Record the AWS calls that code under test makes, for tests/test_handler_permissions.py.

`watch(client)` records every call a boto3 client makes (botocore's `before-parameter-build`
event, which carries the operation and the caller's parameters), in `CALLS`, with the `TAG`
in force when it was made: what the code was acting for (e.g. a custom resource's
properties). Clients the tests use to set up or inspect moto are not watched, so `CALLS`
holds only the calls of the code under test. `record` adds a call that a test double makes
instead of botocore (an operation moto lacks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    service: str
    """botocore's service name: organizations, cloudwatch, accessanalyzer, ..."""
    operation: str
    """The API operation: ListRoots, DescribeAlarms, ..."""
    params: Mapping[str, Any] = field(default_factory=dict)
    tag: Any = None
    region: str | None = None
    """The region the client called (None: the caller's own)."""

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.service}.{self.operation}({shown})"


CALLS: list[Call] = []
"""Every recorded call, in order (tests clear it)."""
TAG: list[Any] = [None]
"""The tag in force (a one-element list, so that `tagged` can change it)."""


def record(service: str, operation: str, *, region: str | None = None, **params: Any) -> None:
    CALLS.append(Call(service, operation, params, TAG[0], region))


def watch(client: Any) -> Any:
    """`client`, recording each of its calls from now on."""
    service = client.meta.service_model.service_name
    region = client.meta.region_name

    def before(params: Mapping[str, Any], model: Any, **_: Any) -> None:
        record(service, model.name, region=region, **params)

    client.meta.events.register("before-parameter-build", before)
    return client


@contextmanager
def tagged(tag: Any) -> Iterator[None]:
    """Tag the calls made inside the block."""
    previous, TAG[0] = TAG[0], tag
    try:
        yield
    finally:
        TAG[0] = previous


def tagging(function: Callable[..., Any], tag: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, tagging the calls it makes with `tag(*args, **kwargs)`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with tagged(tag(*args, **kwargs)):
            return function(*args, **kwargs)

    return wrapper
