"""The kubectl Lambda layer of a cluster's Kubernetes version (the table is
`facts.kubernetes.KUBECTL_LAYERS`); its module is imported only when a cluster of that version
is built."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from facts.kubernetes import KUBECTL_LAYERS

if TYPE_CHECKING:
    from aws_cdk import aws_lambda
    from constructs import Construct


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
