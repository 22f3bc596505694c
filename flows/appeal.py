"""One denial worked to its end: review, lead approval, appeal letter, sending."""

from __future__ import annotations

from prefect import flow

from flows._review import await_decision
from tasks.appeal import denial_step, send_appeal_electronically
from tasks.review import apply_decision

# A denial walks a handful of steps (review, approval, letter review, send); more means a bug.
_MAX_STEPS = 20


@flow(name="appeal")
async def appeal(denial_id: int) -> str:
    """Walk denial ``denial_id`` step by step; each person's step suspends this run."""
    for _ in range(_MAX_STEPS):
        step = denial_step(denial_id)
        if step.kind == "done":
            return step.outcome
        if step.kind == "send":
            assert step.appeal_id is not None
            send_appeal_electronically(step.appeal_id)
            continue
        assert step.task_id is not None
        decision_id = await await_decision(step.task_id)
        apply_decision(step.task_id, decision_id)
    raise RuntimeError(f"denial {denial_id}: still not done after {_MAX_STEPS} steps")
