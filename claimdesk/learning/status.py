"""The learned rule's state machine: suggested → approved | dismissed; approved → retired."""

from __future__ import annotations

from claimdesk.states import StateMachine

LEARNED_RULE = StateMachine(
    "learned rule",
    initial=frozenset({"suggested"}),
    moves={
        "suggested": frozenset({"approved", "dismissed"}),
        "approved": frozenset({"retired"}),
        "dismissed": frozenset(),
        "retired": frozenset(),
    },
)
