"""Stateful data services: PostgreSQL, caches, OpenSearch, MSK, S3 buckets, AWS Backup, and the
data-safety rules they share (keys, removal policies, client-only security groups)."""
