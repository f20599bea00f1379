"""Which kubectl Lambda layer serves which Kubernetes version: the one table.

Plain data so the config can check a version has a layer without starting jsii. Each entry
names the PyPI package (pinned in pyproject.toml), its module and its layer class; the
module is imported only when a cluster of that version is built.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aws_cdk import aws_lambda
    from constructs import Construct


class KubectlLayer(NamedTuple):
    package: str
    module: str
    class_name: str


KUBECTL_LAYERS = MappingProxyType(
    {
        f"1.{minor}": KubectlLayer(
            f"aws-cdk.lambda-layer-kubectl-v{minor}",
            f"aws_cdk.lambda_layer_kubectl_v{minor}",
            f"KubectlV{minor}Layer",
        )
        for minor in (33, 34, 35, 36)
    }
)
"""Kubernetes minor version -> the layer package whose kubectl matches it."""


def kubectl_layer(
    scope: Construct, id_: str, *, kubernetes_version: str
) -> aws_lambda.ILayerVersion:
    """The kubectl layer of the same minor version as the cluster."""
    try:
        layer = KUBECTL_LAYERS[kubernetes_version]
    except KeyError:
        raise ValueError(
            f"kubernetes_version: no kubectl layer for {kubernetes_version!r}; "
            f"available: {', '.join(KUBECTL_LAYERS)}"
        ) from None
    return getattr(importlib.import_module(layer.module), layer.class_name)(scope, id_)
