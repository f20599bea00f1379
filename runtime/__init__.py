"""Code that runs in AWS, not at synth: Lambda handlers and the pipeline's health check.

Nothing here imports aws_cdk; each module is tested with moto.
"""
