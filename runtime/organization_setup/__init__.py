"""The Lambda code of the OrganizationSetup custom resource (handler.py, boto3 only)."""
