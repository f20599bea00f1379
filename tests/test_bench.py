"""The benchmark's generated organisations are valid configs the app would accept."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from pathlib import Path

from app import app_command
from config import parse_config
from tools.bench import ACCOUNTS_PER_WAVE, with_extra_accounts


def test_extra_accounts_are_valid_distinct_dev_copies_one_per_wave_after_dev(sample_raw):
    config = parse_config(with_extra_accounts(sample_raw, 12), source="bench")
    extra = {n: a for n, a in config.accounts.items() if n.startswith("team")}
    assert len(extra) == 12
    assert {a.role for a in extra.values()} == {"dev"}
    assert all(a.cluster and a.data and a.edge_settings for a in extra.values())
    assert len({a.domain for a in extra.values()}) == 12
    networks = [ipaddress.ip_network(a.network.cidr) for a in config.accounts.values() if a.network]
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    names = [w.name for w in config.pipeline.waves]
    team_waves = [w for w in config.pipeline.waves if set(w.accounts) <= set(extra)]
    assert [w.name for w in team_waves] == [f"teams{i:02d}" for i in range(12 // ACCOUNTS_PER_WAVE)]
    assert names.index("teams00") == names.index("dev") + 1
    assert all(len(w.accounts) == ACCOUNTS_PER_WAVE for w in team_waves)
    assert sorted(a for w in team_waves for a in w.accounts) == sorted(extra)


def test_the_network_shape_is_the_least_a_workload_account_needs(sample_raw):
    config = parse_config(with_extra_accounts(sample_raw, 2, "network"), source="bench")
    extra = [a for n, a in config.accounts.items() if n.startswith("team")]
    assert [(a.network is not None, a.cluster, a.data) for a in extra] == [(True, None, None)] * 2


def test_the_no_edge_shape_drops_only_the_domain_and_its_edge(sample_raw):
    config = parse_config(with_extra_accounts(sample_raw, 2, "no-edge"), source="bench")
    extra = [a for n, a in config.accounts.items() if n.startswith("team")]
    assert [(a.cluster is not None, a.data is not None, a.edge_settings) for a in extra] == [
        (True, True, None)
    ] * 2


def test_the_app_starts_optimised_and_setup_compiled_the_bytecode_it_needs():
    """`cdk synth` runs `python -O app.py` (no Python-side jsii type checks: the kernel checks
    every value again). Optimised runs read *.opt-1.pyc, which pip does not write; without
    them each synth would recompile the bindings wherever PYTHONDONTWRITEBYTECODE is set.
    `make setup` compiles them."""
    assert app_command()[1:] == ["-O", "app.py"]
    bindings = [
        module.__file__
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("aws_cdk", "cdk_nag", "constructs", "jsii")
        and getattr(module, "__file__", None)
    ]
    assert len(bindings) > 20
    missing = [
        path
        for path in bindings
        if not Path(importlib.util.cache_from_source(path, optimization=1)).exists()
    ]
    assert not missing, f"no optimised bytecode (run make setup): {missing[:5]}"
