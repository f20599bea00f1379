"""The pipeline's waves: every account but sandbox once, in promotion order, gated."""

from __future__ import annotations

from collections.abc import Iterator

from config.model import PROMOTION_RANK
from config.rules.problem import PartialConfig, Problem


def pipeline_promotes_in_order(config: PartialConfig) -> Iterator[Problem]:
    """Every account but management and sandbox in exactly one wave, security first and
    alone; waves in promotion order, one step each; prod behind an approval; staging and prod
    behind the health gate."""
    pipeline = config.pipeline
    if pipeline is None:
        return
    promoted_by: dict[str, str] = {}
    highest_so_far: tuple[int, str] | None = None  # (rank, role) of the earlier waves
    # Deployed (or reported: only the first offending wave is named); not judged when the
    # security account itself failed validation.
    security_deployed = not any(a.role == "security" for a in config.accounts.values())
    for index, wave in enumerate(pipeline.waves):
        path = f"pipeline.waves.{index}"
        roles: dict[str, str] = {}
        for position, name in enumerate(wave.accounts):
            where = f"{path}.accounts.{position}"
            account = config.accounts.get(name)
            if account is None:
                if name not in config.all_account_names:
                    yield Problem(where, "no account of that name in accounts", name)
            elif name in promoted_by:
                yield Problem(where, f"already deployed by {promoted_by[name]}", name)
            elif account.role == "sandbox":
                yield Problem(where, "sandbox is deployed by hand, never by the pipeline", name)
            elif account.role == "management":
                continue  # config.rules.identity.management_deployed_by_hand says why
            else:
                promoted_by[name] = path
                roles[name] = account.role
        ranks = {PROMOTION_RANK[role] for role in roles.values()}
        if len(ranks) > 1:
            yield Problem(
                f"{path}.accounts",
                "mixes promotion steps (" + ", ".join(sorted(set(roles.values()))) + "); give "
                "each its own wave so one is proven before the next deploys",
                list(wave.accounts),
            )
        if ranks and highest_so_far and min(ranks) < highest_so_far[0]:
            role = min(roles.values(), key=PROMOTION_RANK.__getitem__)
            yield Problem(
                f"{path}.accounts",
                f"deploys {role} after an earlier wave deployed {highest_so_far[1]}; changes "
                "travel security, then shared-services, dev, staging, prod",
                list(wave.accounts),
            )
        for role in roles.values():
            if highest_so_far is None or PROMOTION_RANK[role] > highest_so_far[0]:
                highest_so_far = (PROMOTION_RANK[role], role)
        if "security" in roles.values() and len(roles) > 1:
            yield Problem(
                f"{path}.accounts",
                "the security account deploys in a wave of its own, before every other: its "
                "log archive must exist before any account's Config delivers to it",
                list(wave.accounts),
            )
        elif roles and not security_deployed and "security" not in roles.values():
            yield Problem(
                f"{path}.accounts",
                "the first wave must deploy the security account: its log archive receives "
                "every other account's Config recordings",
                list(wave.accounts),
            )
        security_deployed = security_deployed or bool(roles)
        if "prod" in roles.values() and not wave.approval:
            yield Problem(f"{path}.approval", "a wave deploying prod must require approval", False)
        if {"staging", "prod"} & set(roles.values()) and not wave.health_check:
            yield Problem(
                f"{path}.health_check",
                "a wave deploying staging or prod must run the health gate",
                False,
            )
    for name, account in config.accounts.items():
        if account.role not in ("sandbox", "management") and name not in promoted_by:
            yield Problem(
                "pipeline.waves",
                f"accounts.{name} is in no wave; the pipeline deploys every account but "
                "management and sandbox",
            )
