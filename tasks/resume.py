"""Resume a suspended flow run with a decision reference (the only thing Prefect receives)."""

from __future__ import annotations

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
