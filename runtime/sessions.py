"""A boto3 session as a role of another account: what the pipeline's steps run as."""

from __future__ import annotations

import boto3


def assumed_session(role_arn: str, region: str, session_name: str) -> boto3.Session:
    """A session with temporary credentials of `role_arn`, in `region`."""
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=role_arn, RoleSessionName=session_name
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
