"""The remittance's state machine: an 835 transaction set, posted once or set aside.

received → posted (balanced, every claim matched or filed as a task) or exception
(unbalanced, or a trace number seen with other bytes): a person works the exception
through a ``remittance`` task; the set itself is never posted twice.
"""

from __future__ import annotations

from claimdesk.states import StateMachine

REMITTANCE = StateMachine(
    "remittance",
    initial=frozenset({"received", "exception"}),
    moves={
        "received": frozenset({"posted", "exception"}),
        "posted": frozenset(),
        "exception": frozenset(),
    },
)
