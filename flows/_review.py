"""The one helper that pauses a flow for a person (a plain function: a task cannot suspend)."""

from __future__ import annotations

from prefect.flow_runs import asuspend_flow_run
from prefect.runtime import flow_run

from claimdesk.review.decisions import DecisionRef
from tasks.review import bind_review_run, check_decision_reference

# A run refused this many made-up references in a row: something is wrong, stop and say so.
_MAX_REFUSED_REFERENCES = 20


async def await_decision(task_id: int) -> int:
    """Suspend until claimdesk recorded a decision for ``task_id``; return the decision id.

    The run waits for a reference, never the decision (PHI stays in claimdesk's
    database). A reference claimdesk did not record is refused and audited, and
    the run suspends again under the next key. A resumed run re-runs from the
    top: the decision is then found in the database before any new pause.
    """
    run_id = str(flow_run.get_id())
    for attempt in range(1, _MAX_REFUSED_REFERENCES + 1):
        state = bind_review_run(task_id, run_id, attempt)
        if state.decision_id is not None:
            return state.decision_id
        reference = await asuspend_flow_run(wait_for_input=DecisionRef, key=state.pause_key)
        if check_decision_reference(task_id, reference.decision_id, state.pause_key):
            return reference.decision_id
    raise RuntimeError(f"task {task_id}: {_MAX_REFUSED_REFERENCES} references refused in a row")


async def start_review_runs(
    task_ids: list[int], *, keys: dict[int, str] | None = None
) -> list[str]:
    """Hand each review task to its own claim-review run; nothing else waits for the person.

    The idempotency key makes a re-run of the batch flow find the run it already started;
    a replacement for a dead run gets a key of its own (``keys``).
    """
    from prefect.deployments.flow_runs import arun_deployment

    run_ids = []
    for task_id in task_ids:
        run = await arun_deployment(
            "claim-review/claim-review",
            parameters={"task_id": task_id},
            as_subflow=False,
            timeout=0,
            idempotency_key=(keys or {}).get(task_id, f"review-task-{task_id}"),
        )
        run_ids.append(str(run.id))
    return run_ids


async def start_appeal_runs(denial_ids: list[int], *, keys: dict[int, str] | None = None) -> None:
    """One ``appeal`` run per denial; it walks the denial to its end, pausing for people.

    The default key makes a re-run of the batch flow find the run it already started;
    a denial worked again (appeal upheld, run lost) gets a key of its own (``keys``).
    """
    from prefect.deployments.flow_runs import arun_deployment

    for denial_id in dict.fromkeys(denial_ids):
        await arun_deployment(
            "appeal/appeal",
            parameters={"denial_id": denial_id},
            as_subflow=False,
            timeout=0,
            idempotency_key=(keys or {}).get(denial_id, f"denial-{denial_id}"),
        )
