"""The review task's state machine: a person's step in a flow, from open to resolved.

``claimed`` may move to ``claimed``: a lead reassigns a claimed task (a new assignee,
the same status). A resolved or cancelled task is final; a new round is a new task.
"""

from __future__ import annotations

from claimdesk.states import StateMachine

OPEN = "open"
CLAIMED = "claimed"
RESOLVED = "resolved"
CANCELLED = "cancelled"

TASK = StateMachine(
    "review task",
    initial=frozenset({OPEN}),
    moves={
        OPEN: frozenset({CLAIMED, RESOLVED, CANCELLED}),
        CLAIMED: frozenset({OPEN, CLAIMED, RESOLVED, CANCELLED}),
        RESOLVED: frozenset(),
        CANCELLED: frozenset(),
    },
)
# Waiting for a person: what the queue shows and a decision may still close.
OPEN_STATUSES: tuple[str, ...] = (OPEN, CLAIMED)
