"""Open (or print) a Session Manager port-forwarding session to a private endpoint.

    python -m tools.tunnel --env dev --target postgres            # runs `aws ssm start-session`
    python -m tools.tunnel --env prod --target cache --cache sessions --print
    python -m tools.tunnel --env dev --target eks --profile dev-admin

`make tunnel ENV=dev TARGET=postgres [CACHE=name] [ARGS=--print]` runs it. It reads the
environment's access instance id and the target's endpoint from the SSM parameters the
platform's stacks publish (the cluster's endpoint from EKS), with the caller's own AWS
credentials, which must be one of the account's `access.roles`: nothing here widens access.
The session itself is `aws ssm start-session` with the session-manager-plugin installed
(https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html).
See docs/operations.md "Operator access".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from config import PlatformConfig
from config.loader import load_config
from facts.aws import PORT_FORWARDING_DOCUMENT, TARGET_PORTS
from stages.naming import ACCESS_INSTANCE_ID, cluster_name, parameter_name

DEFAULT_CONFIG = "config/platform.yaml"
LOCAL_PORTS = {"postgres": 15432, "cache": 16379, "eks": 8443}
"""Local ports by target, away from anything a laptop already runs on the standard ports."""


class TunnelError(Exception):
    """Why no session can be opened, in words for the operator."""


@dataclass(frozen=True)
class Tunnel:
    region: str
    instance_id: str
    host: str
    port: int
    local_port: int

    def command(self, profile: str | None = None) -> list[str]:
        parameters = {
            "host": [self.host],
            "portNumber": [str(self.port)],
            "localPortNumber": [str(self.local_port)],
        }
        argv = ["aws", "ssm", "start-session", "--region", self.region]
        if profile:
            argv += ["--profile", profile]
        return [
            *argv,
            "--target",
            self.instance_id,
            "--document-name",
            PORT_FORWARDING_DOCUMENT,
            "--parameters",
            json.dumps(parameters, separators=(",", ":")),
        ]


def resolve(
    config: PlatformConfig,
    env: str,
    target: str,
    *,
    cache: str | None = None,
    local_port: int | None = None,
    session: Any = None,
) -> Tunnel:
    """The tunnel to `target` of `env`, read from its account (`session`: a boto3 session
    with the caller's credentials; default one for the account's region)."""
    account = config.accounts.get(env)
    if account is None:
        raise TunnelError(f"no account {env!r} in the config ({', '.join(config.accounts)})")
    if account.access is None:
        raise TunnelError(f"accounts.{env} has no `access`: no access instance to tunnel through")
    if target not in TARGET_PORTS:
        raise TunnelError(f"TARGET must be one of {', '.join(TARGET_PORTS)}; got {target!r}")
    if session is None:
        import boto3

        session = boto3.Session(region_name=account.region)
    ssm = session.client("ssm", region_name=account.region)

    def parameter(*path: str) -> str:
        name = parameter_name(config, env, *path)
        try:
            return ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            raise TunnelError(f"{name} does not exist in {env}: is its stack deployed?") from None

    instance_id = parameter(*ACCESS_INSTANCE_ID)
    if target == "postgres":
        if account.data is None or account.data.postgres is None:
            raise TunnelError(f"accounts.{env} has no PostgreSQL")
        host = parameter("data", "postgres", "endpoint")
    elif target == "cache":
        caches = sorted(account.data.caches) if account.data is not None else []
        if not caches:
            raise TunnelError(f"accounts.{env} has no cache")
        if cache is None and len(caches) > 1:
            raise TunnelError(
                f"{env} has several caches: name one with CACHE= ({', '.join(caches)})"
            )
        name = cache or caches[0]
        if name not in caches:
            raise TunnelError(f"{env} has no cache {name!r} ({', '.join(caches)})")
        host = parameter("data", "caches", name, "endpoint")
    else:
        if account.cluster is None:
            raise TunnelError(f"accounts.{env} has no cluster")
        eks = session.client("eks", region_name=account.region)
        endpoint = eks.describe_cluster(name=cluster_name(config, env))["cluster"]["endpoint"]
        host = endpoint.removeprefix("https://")
    return Tunnel(
        region=account.region,
        instance_id=instance_id,
        host=host,
        port=TARGET_PORTS[target],
        local_port=local_port or LOCAL_PORTS[target],
    )


def hint(target: str, tunnel: Tunnel) -> str:
    """How to use the local port once the session is open."""
    local = tunnel.local_port
    if target == "postgres":
        return f"then: psql 'host=localhost port={local} sslmode=require user=... dbname=...'"
    if target == "cache":
        return f"then: valkey-cli --tls -h localhost -p {local} --user ... (or redis-cli)"
    return (
        f"then: kubectl --server https://localhost:{local} --tls-server-name {tunnel.host} ... "
        "(the certificate names the endpoint, not localhost)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--env", required=True, help="the workload account's name in config")
    parser.add_argument("--target", required=True, choices=sorted(TARGET_PORTS))
    parser.add_argument("--cache", help="which cache, where the account has several")
    parser.add_argument("--local-port", type=int, help="the laptop's port (default per target)")
    parser.add_argument("--profile", help="the AWS CLI profile of one of the access roles")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--print", action="store_true", help="print the command, do not run it")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    session = None
    if args.profile:
        import boto3

        session = boto3.Session(profile_name=args.profile)
    try:
        tunnel = resolve(
            config,
            args.env,
            args.target,
            cache=args.cache,
            local_port=args.local_port,
            session=session,
        )
    except TunnelError as exc:
        print(f"tunnel: {exc}", file=sys.stderr)
        return 1
    command = tunnel.command(args.profile)
    print(shlex.join(command))
    print(hint(args.target, tunnel), file=sys.stderr)
    if args.print:
        return 0
    if shutil.which("aws") is None:
        print("tunnel: the AWS CLI (`aws`) is not installed", file=sys.stderr)
        return 1
    sys.stdout.flush()
    os.execvp(command[0], command)  # replaces this process: Ctrl-C ends the session


if __name__ == "__main__":
    sys.exit(main())
