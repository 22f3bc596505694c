"""Appeals: the row with its deadline, the letter PDF in the document store, the outcome.

``create_appeal`` opens the next level (deadline from the payer's ``appeal_levels``);
``generate_appeal_letter`` renders the letter (``claimdesk.denials.letter``) from
the claim, the denial in the payer's words and in plain English, the argument and
the enclosures, stores it as an ``appeal_letter`` document linked to the claim,
and sets ``Appeal.letter_document_id``; ``record_appeal_outcome`` closes a level.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, select

from claimdesk.claims.moves import move_claim
from claimdesk.denials import appeal_deadline, appeal_levels, find_level, load_routing_table
from claimdesk.denials.letter import AppealLetterFacts, DeniedCode, Enclosure, render_appeal_letter
from claimdesk.denials.status import APPEAL, DENIAL
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.stored_documents import store_document
from models import (
    Appeal,
    Claim,
    Coverage,
    Denial,
    Document,
    Patient,
    Payer,
    Practice,
    append_audit_event,
)
from models.types import utcnow

PDF = "application/pdf"
OUTCOMES = ("overturned", "partially_overturned", "upheld")


def create_appeal(
    session: Session, *, denial_id: int, level: int | None = None, actor: str = "system:appeals"
) -> Appeal:
    """The appeal at ``level`` (default: the next one) with its deadline; once per level."""
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise NotFound(f"no denial {denial_id}")
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    payer = session.get(Payer, claim.payer_id)
    assert payer is not None
    existing = session.exec(select(Appeal).where(Appeal.denial_id == denial_id)).all()
    number = level or max((a.level for a in existing), default=0) + 1
    for appeal in existing:
        if appeal.level == number:
            return appeal
    table = load_routing_table()
    levels = appeal_levels(
        payer.appeal_levels,
        payer_kind=payer.kind,
        default_window_days=table.settings.default_appeal_window_days,
    )
    spec = find_level(levels, number)
    if spec is None:
        raise ValidationFailed(
            f"appeal_level: payer {payer.id} has no appeal level {number}.", field="appeal_level"
        )
    previous = [a for a in existing if a.level == number - 1 and a.decided_at is not None]
    notice = previous[0].decided_at.date() if previous and previous[0].decided_at else None
    appeal = Appeal(
        denial_id=denial_id,
        claim_id=claim.id or 0,
        level=number,
        deadline=appeal_deadline(notice or denial.notice_date, spec),
        channel="electronic" if payer.electronic_appeals else "mail",
    )
    session.add(appeal)
    session.flush()
    append_audit_event(
        session,
        actor=actor,
        action="appeal.created",
        entity_type="appeal",
        entity_id=appeal.id,
        claim_id=claim.id,
        details={"denial_id": denial_id, "level": number, "deadline": appeal.deadline.isoformat()},
    )
    return appeal


def appeal_letter_facts(
    session: Session,
    appeal: Appeal,
    *,
    argument: str,
    enclosure_ids: Sequence[int],
    today: date,
) -> AppealLetterFacts:
    denial = session.get(Denial, appeal.denial_id)
    claim = session.get(Claim, appeal.claim_id)
    assert denial is not None and claim is not None
    payer = session.get(Payer, claim.payer_id)
    practice = session.get(Practice, claim.practice_id)
    patient = session.get(Patient, claim.patient_id)
    coverage = session.get(Coverage, claim.coverage_id)
    assert payer and practice and patient and coverage
    table = load_routing_table()
    route = table.route(
        denial.group_code, denial.reason_code, denial.remark_codes, payer_kind=payer.kind
    )
    levels = appeal_levels(payer.appeal_levels, payer_kind=payer.kind)
    spec = find_level(levels, appeal.level)
    enclosures = []
    for document_id in enclosure_ids:
        document = session.get(Document, document_id)
        if document is None:
            raise ValidationFailed(f"enclosure_ids: no document {document_id}.", field="enclosures")
        enclosures.append(Enclosure(document_id=document_id, kind=document.kind))
    address = [
        payer.address_line1,
        payer.address_line2 or "",
        f"{payer.city} {payer.state} {payer.postal_code}".strip(),
    ]
    return AppealLetterFacts(
        letter_date=today,
        practice_name=practice.name,
        practice_npi=practice.npi,
        payer_name=payer.name,
        payer_address=tuple(line for line in address if line),
        appeal_level=appeal.level,
        level_name=spec.name if spec else "appeal",
        deadline=appeal.deadline,
        patient_name=f"{patient.first_name} {patient.last_name}",
        member_id=coverage.member_id,
        patient_control_number=claim.patient_control_number,
        payer_claim_number=claim.payer_claim_number or "",
        service_from=claim.service_from,
        service_to=claim.service_to,
        billed=claim.total_charge,
        denied_amount=denial.amount,
        notice_date=denial.notice_date,
        denial=DeniedCode(
            group=denial.group_code,
            carc=denial.reason_code,
            payer_words=table.carc_description(denial.reason_code),
            plain_english=route.explanation,
            remarks=tuple((r, table.rarc_description(r)) for r in denial.remark_codes),
        ),
        argument=argument,
        enclosures=tuple(enclosures),
    )


def generate_appeal_letter(
    session: Session,
    *,
    appeal_id: int,
    store: DocumentStore,
    argument: str,
    enclosure_ids: Sequence[int] = (),
    today: date | None = None,
) -> int:
    """Render, store and link the letter; returns its document id (the same for the same facts)."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    facts = appeal_letter_facts(
        session,
        appeal,
        argument=argument,
        enclosure_ids=enclosure_ids,
        today=today or utcnow().date(),
    )
    data = render_appeal_letter(facts)
    document_id = store_document(
        session, store, data, kind="appeal_letter", content_type=PDF, claim_id=appeal.claim_id
    )
    appeal.letter_document_id = document_id
    session.add(appeal)
    session.flush()
    return document_id


def record_appeal_outcome(
    session: Session, *, appeal_id: int, outcome: str, actor: str = "system:appeals"
) -> Appeal:
    """Close a level: overturned, partially_overturned or upheld (then next level or write-off)."""
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}.", field="outcome"
        )
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    APPEAL.move(appeal, outcome)
    appeal.decided_at = utcnow()
    session.add(appeal)
    if outcome == "upheld":
        # Worked again: the next level or a write-off (a new denial review round).
        denial = session.get(Denial, appeal.denial_id)
        claim = session.get(Claim, appeal.claim_id)
        assert denial is not None and claim is not None
        DENIAL.move(denial, "open")
        session.add(denial)
        if claim.status == "appealed":
            move_claim(session, claim, "denied", actor, "appeal_upheld")
    append_audit_event(
        session,
        actor=actor,
        action="appeal.decided",
        entity_type="appeal",
        entity_id=appeal.id,
        claim_id=appeal.claim_id,
        details={"outcome": outcome, "level": appeal.level},
    )
    session.flush()
    return appeal
