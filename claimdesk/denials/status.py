"""The denial's and the appeal's state machines.

A denial: open → corrected | appealed | billed_secondary | billed_patient |
write_off_pending → written_off; a true duplicate is created closed. A refused write-off
or an upheld appeal puts it back to open: a new review round for the same denial.
An appeal level: pending → overturned | partially_overturned | upheld, once.
"""

from __future__ import annotations

from claimdesk.states import StateMachine

DENIAL = StateMachine(
    "denial",
    initial=frozenset({"open", "closed"}),
    moves={
        "open": frozenset(
            {
                "corrected",
                "appealed",
                "billed_secondary",
                "billed_patient",
                "write_off_pending",
                "written_off",
            }
        ),
        "write_off_pending": frozenset({"open", "written_off"}),
        "appealed": frozenset({"open", "written_off"}),
        "corrected": frozenset(),
        "billed_secondary": frozenset(),
        "billed_patient": frozenset(),
        "written_off": frozenset(),
        "closed": frozenset(),
    },
)
# Still to be worked: the claim is not settled while one of these is open.
WORKING = ("open", "write_off_pending")

APPEAL = StateMachine(
    "appeal",
    field="outcome",
    initial=frozenset({"pending"}),
    moves={
        "pending": frozenset({"overturned", "partially_overturned", "upheld"}),
        "overturned": frozenset(),
        "partially_overturned": frozenset(),
        "upheld": frozenset(),
    },
)
