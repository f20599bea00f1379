"""The self-mutating CDK Pipeline that promotes the stages (foundation -> dev -> staging ->
prod). Until it exists, `app.py` adds every stage at the top level and stages are deployed
with `cdk deploy '<account>/*'`."""
