"""The policy gate: which checks run on the app, and how findings are acknowledged.

`apply_policy_gate(app)` registers the cdk-nag packs as CDK validation plugins, so any
unacknowledged finding fails synthesis before a template reaches `cdk deploy`. Constructs
acknowledge their own false positives and accepted trade-offs with
`policies.acknowledgements.acknowledge`, one finding id on one construct at a time.
"""
