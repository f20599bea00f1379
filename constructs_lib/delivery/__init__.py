"""Delivery: the container registry, GitHub Actions OIDC roles, and the read-only role of the
pipeline's health gate."""
