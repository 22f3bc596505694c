"""Database rows → the codec's plain data layer (``claimdesk.x12.claim_data``).

The only place that knows both the tables and the X12 models; the codec stays
free of the database and the tables free of X12. Text goes through a ``WireText``
(transliterated to the X12 character set, by field name); a claim whose rows cannot
make its wire data raises ``WireDataError`` naming the field and the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from claimdesk.claims.institutional import institutional_fields
from claimdesk.claims.wire_parties import (
    DEFAULT_CONTACT_PHONE,
    billing_provider,
    cut,
    dependent_for,
    eligibility_inquiry,
    envelope_for,
    provider_for,
    subscriber_for,
)
from claimdesk.claims.wire_text import WireDataError, WireText, section
from claimdesk.settings import Settings
from claimdesk.x12 import claim_data as cd
from claimdesk.x12.charset import CarryProblem
from models import (
    Adjustment,
    Authorization,
    Claim,
    ClaimLine,
    ClaimPayment,
    Coverage,
    Diagnosis,
    Patient,
    Payer,
    Practice,
    Provider,
    ServicePayment,
)

__all__ = [
    "DEFAULT_CONTACT_PHONE",
    "WireClaim",
    "WireDataError",
    "billing_provider",
    "build_claim_batch",
    "build_wire_claims",
    "claim_batch",
    "dependent_for",
    "eligibility_inquiry",
    "envelope_for",
    "subscriber_for",
    "wire_text_problems",
]


@dataclass(frozen=True)
class WireClaim:
    """One claim's 837 data and the fields that were transliterated on the way (names only)."""

    claim_id: int
    version: int
    data: cd.Claim837
    transliterated: tuple[str, ...]


def build_wire_claims(
    session: Session, *, payer_id: int, claim_ids: Sequence[int], probe: bool = False
) -> tuple[list[WireClaim], list[tuple[int, WireDataError]]]:
    """Each claim's 837 data on its own: one claim's rows that cannot go stop only that claim."""
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise WireDataError("claim.payer", "missing")
    claims = session.exec(
        select(Claim).where(col(Claim.id).in_(claim_ids)).order_by(col(Claim.id))
    ).all()
    lines = _by_claim(
        session.exec(
            select(ClaimLine)
            .where(col(ClaimLine.claim_id).in_(claim_ids))
            .order_by(col(ClaimLine.line_number))
        ).all()
    )
    diagnoses = _by_claim(
        session.exec(
            select(Diagnosis)
            .where(col(Diagnosis.claim_id).in_(claim_ids))
            .order_by(col(Diagnosis.position))
        ).all()
    )
    built: list[WireClaim] = []
    failed: list[tuple[int, WireDataError]] = []
    for claim in claims:
        claim_id = claim.id or 0
        text = WireText(probe=probe)
        try:
            practice = session.get(Practice, claim.practice_id)
            if practice is None:
                raise WireDataError("claim.practice", "missing")
            data = _claim(
                session,
                payer,
                practice,
                claim,
                lines.get(claim_id, []),
                diagnoses.get(claim_id, []),
                text,
            )
        except WireDataError as exc:
            failed.append((claim_id, exc))
            continue
        built.append(WireClaim(claim_id, claim.version, data, tuple(text.transliterated)))
    return built, failed


def wire_text_problems(session: Session, claim_id: int) -> list[tuple[str, CarryProblem]]:
    """(field, problem) for each of the claim's texts X12 cannot carry even transliterated."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return []
    payer = session.get(Payer, claim.payer_id)
    practice = session.get(Practice, claim.practice_id)
    if payer is None or practice is None:
        return []
    lines = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim_id).order_by(col(ClaimLine.line_number))
    ).all()
    text = WireText(probe=True)
    # Another kind of problem is the build's to name; here only the texts count.
    with suppress(WireDataError):
        _claim(session, payer, practice, claim, list(lines), [], text)
    return list(text.problems)


def claim_batch(
    session: Session,
    *,
    settings: Settings,
    payer_id: int,
    claims: Sequence[WireClaim],
    control: cd.ControlNumbers,
    reference_id: str,
    now: datetime | None = None,
    text: WireText | None = None,
) -> cd.ClaimBatch837:
    """One 837 batch (P or I, by the claims' kind) for built claims of one payer."""
    payer = session.get(Payer, payer_id)
    assert payer is not None
    rows = session.exec(select(Claim).where(col(Claim.id).in_([c.claim_id for c in claims]))).all()
    kinds = {c.kind for c in rows}
    if len(kinds) != 1:
        raise ValueError("one 837 batch carries claims of one kind (P or I)")
    practice = session.get(Practice, min(rows, key=lambda c: c.id or 0).practice_id)
    assert practice is not None
    text = text or WireText()
    envelope = envelope_for(settings, payer)
    return cd.ClaimBatch837(
        envelope=envelope,
        control=control,
        created_at=(now or datetime.now(UTC)).replace(second=0, microsecond=0, tzinfo=None),
        reference_id=reference_id,
        kind=kinds.pop(),
        submitter=cd.Submitter(
            name=cd.PersonName(entity_type="2", last_name=text("practice.name", practice.name)),
            identifier=settings.core_sender_id,
            contact_name="BILLING OFFICE",
            phone=DEFAULT_CONTACT_PHONE,
        ),
        receiver=cd.Receiver(
            name=cut(text("payer.name", payer.name), 60), identifier=envelope.receiver_id
        ),
        claims=tuple(c.data for c in claims),
    )


def build_claim_batch(
    session: Session,
    *,
    settings: Settings,
    payer_id: int,
    claim_ids: Sequence[int],
    control: cd.ControlNumbers,
    reference_id: str,
    now: datetime | None = None,
) -> cd.ClaimBatch837:
    """One 837 batch for claims of one payer; ``WireDataError`` for the first that cannot go."""
    built, failed = build_wire_claims(session, payer_id=payer_id, claim_ids=claim_ids)
    if failed:
        claim_id, error = failed[0]
        raise WireDataError(f"claim {claim_id} {error.field}", error.rule)
    return claim_batch(
        session,
        settings=settings,
        payer_id=payer_id,
        claims=built,
        control=control,
        reference_id=reference_id,
        now=now,
    )


def _by_claim(rows: Sequence[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.claim_id, []).append(row)
    return grouped


def _claim(
    session: Session,
    payer: Payer,
    practice: Practice,
    claim: Claim,
    lines: list[ClaimLine],
    diagnoses: list[Diagnosis],
    text: WireText,
) -> cd.Claim837:
    coverage = session.get(Coverage, claim.coverage_id)
    patient = session.get(Patient, claim.patient_id)
    billing = session.get(Provider, claim.billing_provider_id)
    if coverage is None or patient is None or billing is None:
        missing = "coverage" if coverage is None else "patient" if patient is None else "billing"
        raise WireDataError(f"claim.{missing}", "missing")
    rendering = (
        session.get(Provider, claim.rendering_provider_id) if claim.rendering_provider_id else None
    )
    authorization = (
        session.get(Authorization, claim.authorization_id) if claim.authorization_id else None
    )
    institutional = claim.kind == "I"
    billing_data = billing_provider(billing, practice, text)
    subscriber = subscriber_for(coverage, patient, payer, text)
    dependent = dependent_for(coverage, patient, text)
    provider = provider_for(rendering, "rendering_provider", text) if rendering else None
    number = text.optional("authorization.number", authorization.number) if authorization else None
    other_payers = _other_payers(session, claim, text)
    pcn = text("claim.patient_control_number", claim.patient_control_number)
    # 837I: admission, patient status, UB-04 codes and physicians from the claim's own data.
    facility = institutional_fields(session, claim, text) if institutional else {}
    original = text.optional("claim.original_claim_number", claim.original_payer_claim_number)
    payer_ref = cd.PayerRef(name=cut(text("payer.name", payer.name), 60), payer_id=payer.payer_id)
    wire_lines = tuple(
        section(f"lines[{line.line_number}]", partial(_line, session, claim, line, text))
        for line in lines
    )
    return section(
        "claim",
        lambda: cd.Claim837(
            billing_provider=billing_data,
            subscriber=subscriber,
            payer=payer_ref,
            patient=dependent,
            patient_control_number=pcn,
            total_charge=claim.total_charge,
            facility_code=(claim.facility_type_code or "13")
            if institutional
            else claim.place_of_service,
            frequency_code=claim.frequency_code,
            statement_from=claim.service_from if institutional else None,
            statement_through=claim.service_to if institutional else None,
            original_claim_number=original,
            prior_authorization=number
            if authorization and authorization.kind == "prior_auth"
            else None,
            referral_number=number if authorization and authorization.kind == "referral" else None,
            claim_id=str(claim.id),
            claim_version=claim.version,
            diagnoses=tuple(d.code for d in diagnoses),
            rendering_provider=provider if not institutional else None,
            attending_provider=provider if institutional else None,
            other_payers=other_payers,
            lines=wire_lines,
            **facility,
        ),
    )


def _line(session: Session, claim: Claim, line: ClaimLine, text: WireText) -> cd.ServiceLine:
    institutional = claim.kind == "I"
    return cd.ServiceLine(
        line_number=line.line_number,
        revenue_code=line.revenue_code if institutional else None,
        procedure_code=line.procedure_code,
        modifiers=tuple(line.modifiers),
        charge=line.charge,
        units=Decimal(line.units).normalize() if line.units % 1 else Decimal(int(line.units)),
        diagnosis_pointers=() if institutional else tuple(line.diagnosis_pointers),
        service_date=line.service_date,
        service_date_end=line.service_date_to,
        line_item_control_number=text(
            f"lines[{line.line_number}].line_control_number", line.line_control_number
        ),
        adjudications=_line_adjudications(session, claim, line),
    )


def _primary_payment(session: Session, claim: Claim) -> tuple[ClaimPayment, Payer, Coverage] | None:
    if claim.coverage_order < 2 or claim.primary_claim_id is None:
        return None
    primary = session.get(Claim, claim.primary_claim_id)
    payment = session.exec(
        select(ClaimPayment)
        .where(ClaimPayment.claim_id == claim.primary_claim_id)
        .order_by(col(ClaimPayment.id).desc())
    ).first()
    if primary is None or payment is None:
        return None
    payer = session.get(Payer, primary.payer_id)
    coverage = session.get(Coverage, primary.coverage_id)
    assert payer is not None and coverage is not None
    return payment, payer, coverage


def _other_payers(session: Session, claim: Claim, text: WireText) -> tuple[cd.OtherPayer, ...]:
    found = _primary_payment(session, claim)
    if found is None:
        return ()
    payment, payer, coverage = found
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None
    last = text("other_payer.subscriber.last_name", patient.last_name)
    first = text.optional("other_payer.subscriber.first_name", patient.first_name)
    member_id = text("other_payer.member_id", coverage.member_id)
    name = cut(text("other_payer.name", payer.name), 60)
    # 2330B REF*F8: the primary's own claim number (CLP07 of its 835), as secondaries ask.
    primary_number = text.optional("other_payer.claim_control_number", payment.payer_claim_number)
    claim_level = session.exec(
        select(Adjustment).where(
            Adjustment.claim_payment_id == payment.id, col(Adjustment.service_payment_id).is_(None)
        )
    ).all()
    return (
        section(
            "other_payer",
            lambda: cd.OtherPayer(
                payer_responsibility="P",
                claim_filing_indicator=payer.claim_filing_indicator,
                adjustments=tuple(_adjustment(a) for a in claim_level),
                paid_amount=payment.paid,
                remaining_patient_liability=payment.patient_responsibility,
                subscriber=cd.PersonName(last_name=last, first_name=first),
                member_id=member_id,
                payer_name=name,
                payer_id=payer.payer_id,
                claim_control_number=primary_number,
            ),
        ),
    )


def _line_adjudications(
    session: Session, claim: Claim, line: ClaimLine
) -> tuple[cd.LineAdjudication, ...]:
    found = _primary_payment(session, claim)
    if found is None:
        return ()
    payment, payer, _coverage = found
    service = session.exec(
        select(ServicePayment).where(
            ServicePayment.claim_payment_id == payment.id,
            ServicePayment.line_control_number == line.line_control_number,
        )
    ).first()
    if service is None:
        return ()
    adjustments = session.exec(
        select(Adjustment).where(Adjustment.service_payment_id == service.id)
    ).all()
    return (
        cd.LineAdjudication(
            other_payer_id=payer.payer_id,
            paid_amount=service.paid,
            procedure_code=line.procedure_code,
            modifiers=tuple(line.modifiers),
            paid_units=Decimal(int(line.units)) if line.units % 1 == 0 else line.units,
            adjustments=tuple(_adjustment(a) for a in adjustments),
            adjudication_date=_remit_date(session, payment) or line.service_date,
        ),
    )


def _adjustment(row: Adjustment) -> cd.Adjustment:
    return cd.Adjustment(
        group_code=row.group_code,
        reason_code=row.reason_code,
        amount=row.amount,
        quantity=row.quantity,
    )


def _remit_date(session: Session, payment: ClaimPayment) -> date | None:
    from models import Remittance

    remittance = session.get(Remittance, payment.remittance_id)
    return remittance.payment_date if remittance else None
