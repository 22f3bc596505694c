"""The claim a paper form is drawn from: the same data the 837 writer sends, one claim."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from claimdesk.claims.wire_data import build_claim_batch
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.settings import Settings
from claimdesk.x12.claim_data import ControlNumbers
from models import Claim

# Which form each claim kind goes on, and the other kind's form (for the refusal).
_FORMS = {"P": ("CMS-1500", "professional", "a"), "I": ("UB-04", "institutional", "an")}


def paper_claim(
    session: Session, *, settings: Settings, claim_id: int, kind: str
) -> tuple[Claim, Any]:
    """The stored claim and its 837 claim data; refused when the claim is of the other kind
    or lacks what the form needs (named, without the claim's values in the message)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    form, wanted, _ = _FORMS[kind]
    if claim.kind != kind:
        other_form, other, article = _FORMS[claim.kind]
        raise ValidationFailed(
            f"kind: claim {claim_id} is {other}; the {form} is for {wanted} "
            f"claims ({article} {other} claim goes on a {other_form}).",
            field="kind",
        )
    try:
        batch = build_claim_batch(
            session,
            settings=settings,
            payer_id=claim.payer_id,
            claim_ids=[claim_id],
            control=ControlNumbers(interchange=1, group=1, transaction_set=1),
            reference_id="PAPER",
        )
    except (ValueError, ValidationError) as exc:
        # The message can quote the claim's own values: it goes in ``detail`` only.
        raise ValidationFailed(
            f"claim: claim {claim_id} lacks data the form needs; correct the claim.",
            field="claim",
            detail=str(exc),
        ) from exc
    return claim, batch.claims[0]
