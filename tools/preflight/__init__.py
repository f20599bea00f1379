"""Preflight: check a real AWS organisation against the platform's prerequisites before the
first deploy (`make preflight`, `python -m tools.preflight --help`). Read-only.

Every row of its table is PASS, PENDING or FAIL:

- PASS: the prerequisite is in place.
- PENDING: it is not, but a stack of the platform creates it and has not been deployed yet
  (trusted access before `management/Organization`, the parent zone before
  `shared-services/Dns`): nothing to do. Once that stack is deployed, the same finding is a
  FAIL, because the stack should have created it.
- FAIL: a person must act before deploying; the row says what is wrong and how to fix it. A
  check that could not run (no access, a call denied) fails too: the preflight cannot vouch.

The command exits 1 if any row failed, 0 otherwise, 2 if it could not start.

Modules: `checks` (the checks, one small function each over boto3 clients), `needs` (what
the cloud assembly needs and which stack creates what), `access` (reaching each account,
reading stacks), `dns` (public NS records, the pipeline step's lookup), `report` (the
table), `cli` (the command).
"""
