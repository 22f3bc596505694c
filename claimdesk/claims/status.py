"""The claim status state machine: every allowed transition in one table.

A claim is printed with its current ``status`` everywhere; any change goes
through ``claimdesk.claims.moves.set_claim_status`` (which checks this table), so no
code path can invent a move the billing office did not agree to.
"""

from __future__ import annotations

from enum import StrEnum

from claimdesk.states import StateMachine


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    ELIGIBILITY_HOLD = "eligibility_hold"
    READY = "ready"
    SCRUB_HOLD = "scrub_hold"
    QUEUED = "queued"
    SENT = "sent"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    BILLED_SECONDARY = "billed_secondary"
    BILLED_PATIENT = "billed_patient"
    WRITTEN_OFF = "written_off"
    VOIDED = "voided"


S = ClaimStatus
# Adjudicated outcomes an 835 (or a reversal in one) can move a claim between.
_ADJUDICATED = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED})

TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.DRAFT: frozenset({S.ELIGIBILITY_HOLD, S.READY, S.VOIDED}),
    # Self-pay after an eligibility review bills the patient directly.
    S.ELIGIBILITY_HOLD: frozenset({S.READY, S.DRAFT, S.BILLED_PATIENT, S.WRITTEN_OFF, S.VOIDED}),
    S.READY: frozenset({S.SCRUB_HOLD, S.QUEUED, S.ELIGIBILITY_HOLD, S.VOIDED}),
    S.SCRUB_HOLD: frozenset({S.READY, S.QUEUED, S.WRITTEN_OFF, S.VOIDED}),
    # A queued claim that cannot be built or fails the TR3 check is held for a person.
    S.QUEUED: frozenset({S.SENT, S.READY, S.SCRUB_HOLD, S.VOIDED}),
    # An 835 can overtake the 277CA, so a sent claim may go straight to adjudication.
    S.SENT: frozenset({S.ACCEPTED, S.REJECTED, S.PENDING} | _ADJUDICATED),
    # A rejected claim was never adjudicated: it is corrected and sent as a new original.
    S.REJECTED: frozenset({S.READY, S.DRAFT, S.QUEUED, S.WRITTEN_OFF, S.VOIDED}),
    S.ACCEPTED: frozenset({S.PENDING, S.REJECTED} | _ADJUDICATED),
    S.PENDING: frozenset({S.ACCEPTED} | _ADJUDICATED),
    # A reversal (CLP02 22) reopens an adjudicated claim; a replacement (freq 7) or a void
    # (freq 8, claims/frequency.py) of it is re-queued: both go to the payer as a new version.
    S.PAID: frozenset(
        {S.PENDING, S.QUEUED, S.APPEALED, S.BILLED_SECONDARY, S.BILLED_PATIENT, S.WRITTEN_OFF}
        | _ADJUDICATED
    )
    - {S.PAID},
    S.PARTIALLY_PAID: frozenset(
        {S.PENDING, S.QUEUED, S.APPEALED, S.BILLED_SECONDARY, S.BILLED_PATIENT, S.WRITTEN_OFF}
        | _ADJUDICATED
    )
    - {S.PARTIALLY_PAID},
    S.DENIED: frozenset(
        {
            S.PENDING,
            S.READY,
            S.QUEUED,
            S.APPEALED,
            S.BILLED_SECONDARY,
            S.BILLED_PATIENT,
            S.WRITTEN_OFF,
            S.PAID,
            S.PARTIALLY_PAID,
        }
    ),
    # Each appeal level decides paid, partly paid or upheld (denied → next level or write-off).
    S.APPEALED: frozenset({S.WRITTEN_OFF} | _ADJUDICATED),
    S.BILLED_SECONDARY: frozenset({S.BILLED_PATIENT, S.WRITTEN_OFF} | _ADJUDICATED),
    S.BILLED_PATIENT: frozenset({S.PAID, S.WRITTEN_OFF}),
    S.WRITTEN_OFF: frozenset(),
    S.VOIDED: frozenset(),
}


CLAIM = StateMachine(
    "claim",
    initial=frozenset({S.DRAFT}),
    moves={
        status.value: frozenset(t.value for t in targets) for status, targets in TRANSITIONS.items()
    },
)


def check_transition(current: str, target: str) -> ClaimStatus:
    """Return ``target`` as a status if ``current`` may move to it, else raise."""
    return ClaimStatus(CLAIM.check(current, target))
