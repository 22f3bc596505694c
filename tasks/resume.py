"""Resume a suspended flow run with a decision reference (the only thing Prefect receives).

A denial's first decision finds no run waiting (its review opens at posting, with
no run): ``start_appeal_run`` starts the denial's ``appeal`` run then, and the run
finds the recorded decision. Both are passed into ``claimdesk.workqueue.resolve``.
"""

from __future__ import annotations

import inspect
from uuid import UUID

from claimdesk.errors import ConfigError


def resume_with_reference(flow_run_id: str, decision_id: int) -> None:
    """Resume ``flow_run_id`` with ``{"decision_id": ...}``; raises when Prefect refuses or is down.

    Uses the Prefect API from ``PREFECT_API_URL`` (``claimdesk up`` sets it for every child).
    """
    from prefect.flow_runs import resume_flow_run  # heavy import: only when resuming

    resume_flow_run(UUID(flow_run_id), run_input={"decision_id": decision_id})


def resume_unavailable(flow_run_id: str, decision_id: int) -> None:
    """The resumer when no Prefect API is configured: the decision waits for the reconciler."""
    raise ConfigError(
        f"no Prefect API configured; decision {decision_id} for run {flow_run_id} is kept "
        "and resumed by the reconciler (set CLAIMDESK_PREFECT_API_URL)."
    )


def start_appeal_run(denial_id: int, key: str) -> str:
    """Start ``appeal/appeal`` for ``denial_id`` under ``key`` (the same run for the same key).

    Returns the run's id at once (``timeout=0``); raises when Prefect is down.
    """
    from prefect.deployments.flow_runs import run_deployment  # heavy import: only when starting

    run = run_deployment(
        "appeal/appeal",
        parameters={"denial_id": denial_id},
        as_subflow=False,
        timeout=0,
        idempotency_key=key,
    )
    # Called from sync code (app, CLI, a sync task): the sync path runs, never a coroutine.
    assert not inspect.isawaitable(run)
    return str(run.id)


def start_unavailable(denial_id: int, key: str) -> str:
    """The starter when no Prefect API is configured: the reconciler starts the run later."""
    raise ConfigError(
        f"no Prefect API configured; denial {denial_id}'s decision is kept and its run is "
        "started by the reconciler (set CLAIMDESK_PREFECT_API_URL)."
    )
