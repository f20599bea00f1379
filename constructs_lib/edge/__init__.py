"""The edge: CloudFront with WAF and its us-east-1 certificate, in front of the account's
internal load balancer or buckets."""
