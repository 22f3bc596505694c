"""The submission's state machine: one 837 transaction set on its way to the payer.

built → sent (the outbox, once the payer took it) → acknowledged (999 accepted) or
rejected (TA1/999 rejection). A submission still marked built may be rejected: the
outbox marks it sent after the payer answered, and a crash in between leaves it built
while its acknowledgement arrives.
"""

from __future__ import annotations

from claimdesk.states import StateMachine

SUBMISSION = StateMachine(
    "submission",
    initial=frozenset({"built"}),
    moves={
        "built": frozenset({"sent", "rejected"}),
        "sent": frozenset({"acknowledged", "rejected"}),
        "acknowledged": frozenset({"rejected"}),
        "rejected": frozenset(),
    },
)
