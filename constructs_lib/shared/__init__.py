"""What constructs of several areas share: KMS keys for log groups, access-log buckets, tags
for the resources `Tags.of` cannot reach."""
