"""Void (CLM05-3 = 8) and replacement (7) of an adjudicated claim, re-queued for the payer.

Both name the payer's own claim number in REF*F8 (``original_payer_claim_number``), so
only a claim the payer adjudicated and numbered can be voided or replaced. Each bumps
``version`` (REF*D9 ``<id>-v<version>``: the payer's answers find the new version) and
moves the claim back to ``queued`` through ``set_claim_status``; the outbox sends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlmodel import Session

from claimdesk.access.permissions import require
from claimdesk.claims.corrections import apply_corrections
from claimdesk.claims.ledger import ensure_charge
from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.status import ClaimStatus
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.review.decisions import ClaimCorrections
from models import Claim, Payer, User, append_audit_event

if TYPE_CHECKING:
    from claimdesk.access.permissions import Actor

# What the payer decided: only these have a payer claim number to void or replace.
ADJUDICATED = frozenset({ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED})
_MAX_REASON = 500


def void_claim(session: Session, claim_id: int, user: User | Actor, reason: str) -> Claim:
    """Send a void (frequency 8) of an adjudicated claim: REF*F8 names the payer's claim."""
    require(user, "claim.void", session=session)
    text = _reason(reason)
    claim = _adjudicated_claim(session, claim_id, "void")
    return _requeue(session, claim, user, text, frequency="8")


def replace_claim(
    session: Session,
    claim_id: int,
    user: User | Actor,
    reason: str,
    corrections: ClaimCorrections | None = None,
) -> Claim:
    """Send a replacement (frequency 7) of an adjudicated claim, corrected as given."""
    require(user, "claim.replace", session=session)
    text = _reason(reason)
    claim = _adjudicated_claim(session, claim_id, "replace")
    payer = session.get(Payer, claim.payer_id)
    if payer is not None and not payer.accepts_replacement_claims:
        raise ValidationFailed(
            f"claim {claim_id}: payer {payer.payer_id} takes no replacement claims "
            "(payer.accepts_replacement_claims is off); void it and send a new original.",
            field="payer.accepts_replacement_claims",
        )
    if corrections is not None and not corrections.is_empty():
        apply_corrections(session, claim, corrections)
    return _requeue(session, claim, user, text, frequency="7")


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValidationFailed("reason: say why the claim is voided or replaced", field="reason")
    if len(text) > _MAX_REASON:
        raise ValidationFailed(f"reason: at most {_MAX_REASON} characters", field="reason")
    return text


def _adjudicated_claim(session: Session, claim_id: int, verb: str) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    if claim.status not in ADJUDICATED:
        allowed = ", ".join(sorted(ADJUDICATED))
        raise ValidationFailed(
            f"claim {claim_id}: only an adjudicated claim ({allowed}) can be {verb}d; "
            f"this one is {claim.status}.",
            field="claim.status",
        )
    if not claim.payer_claim_number:
        raise ValidationFailed(
            f"claim {claim_id}: payer_claim_number is empty (the payer never gave its claim "
            f"number, which REF*F8 must carry); cannot {verb} it.",
            field="claim.payer_claim_number",
        )
    return claim


def _requeue(
    session: Session, claim: Claim, user: User | Actor, reason: str, *, frequency: Literal["7", "8"]
) -> Claim:
    claim.frequency_code = frequency
    claim.original_payer_claim_number = claim.payer_claim_number
    claim.version += 1
    session.add(claim)
    if frequency == "7":
        # A corrected charge moves the account's charge with it (as a denial's correction does).
        ensure_charge(session=session, claim=claim, effective_date=claim.service_from)
    action = "claim.void_queued" if frequency == "8" else "claim.replacement_queued"
    set_claim_status(
        session=session, claim=claim, status=ClaimStatus.QUEUED, actor=user.username, reason=action
    )
    append_audit_event(
        session,
        actor=user.username,
        action=action,
        entity_type="claim",
        entity_id=claim.id,
        claim_id=claim.id,
        details={
            "version": claim.version,
            "frequency_code": frequency,
            "original_payer_claim_number": claim.original_payer_claim_number,
            "reason": reason,
        },
    )
    session.flush()
    return claim
