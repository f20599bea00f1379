"""Kubernetes: the EKS cluster with its add-ons and their Pod Identity roles, the kubectl layer,
and the GitOps bootstrap (Argo CD on the hub, spoke registration)."""
