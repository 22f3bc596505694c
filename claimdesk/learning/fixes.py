"""Learned fixes: a correction people made to a denied line, and what the payer did after.

For each denial worked as a corrected claim (its ``denial`` task's recorded decision),
the denied line's pattern is payer × procedure × CARC as the 835 adjudicated it; the
change is what the correction did to that line (modifiers added, the code changed, the
diagnosis pointers moved); the outcome is the line's next adjudication: paid or not
(none yet: not counted). The change most often paid for a pattern, paid on more than
half of its answered corrections, is offered on the next denial of that pattern as the
same decision a person would submit ("added GP: 14 of 15 paid").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    Denial,
    Payer,
    ReviewDecision,
    ReviewTask,
    ServicePayment,
    append_audit_event,
)

MIN_PAID = 2  # corrections paid before one is offered to anybody


@dataclass(frozen=True)
class FixPattern:
    payer_code: str
    procedure_code: str
    carc: str  # "CO-4"


@dataclass(frozen=True)
class Change:
    """What a correction did to one line; empty parts were left alone."""

    added_modifiers: tuple[str, ...] = ()
    removed_modifiers: tuple[str, ...] = ()
    procedure_code: str | None = None
    diagnosis_pointers: tuple[int, ...] | None = None

    @property
    def words(self) -> str:
        parts = []
        if self.added_modifiers:
            parts.append(f"added {' '.join(self.added_modifiers)}")
        if self.removed_modifiers:
            parts.append(f"removed {' '.join(self.removed_modifiers)}")
        if self.procedure_code:
            parts.append(f"changed the code to {self.procedure_code}")
        if self.diagnosis_pointers:
            parts.append(f"pointed to diagnosis {','.join(map(str, self.diagnosis_pointers))}")
        return ", ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.words)


@dataclass(frozen=True)
class FixRecord:
    pattern: FixPattern
    change: Change
    paid: int
    answered: int  # corrections the payer adjudicated again

    @property
    def words(self) -> str:
        return f"{self.change.words}: {self.paid} of {self.answered} paid"


@dataclass(frozen=True)
class LearnedFix:
    """The fix offered on one denial task: its record and the decision to submit."""

    task_id: int
    line_number: int
    record: FixRecord
    decision: dict[str, Any]

    @property
    def words(self) -> str:
        return self.record.words


@dataclass(frozen=True)
class _DeniedLine:
    pattern: FixPattern
    service: ServicePayment
    line: ClaimLine


def _denied_lines(session: Session, denial: Denial) -> list[_DeniedLine]:
    """The 835 lines whose adjustment opened ``denial``, with the claim line each is."""
    if denial.claim_payment_id is None:
        return []
    claim = session.get(Claim, denial.claim_id)
    payer = session.get(Payer, claim.payer_id) if claim is not None else None
    if payer is None:
        return []
    found: list[_DeniedLine] = []
    seen: set[int] = set()
    rows = session.exec(
        select(Adjustment, ServicePayment, ClaimLine)
        .join(ServicePayment, col(ServicePayment.id) == col(Adjustment.service_payment_id))
        .join(ClaimLine, col(ClaimLine.id) == col(ServicePayment.claim_line_id))
        .where(Adjustment.claim_payment_id == denial.claim_payment_id)
        .where(Adjustment.group_code == denial.group_code)
        .where(Adjustment.reason_code == denial.reason_code)
    ).all()
    for _, service, line in rows:
        if service.id in seen:
            continue
        seen.add(service.id or 0)
        code = service.procedure_code.split(":")[-1].strip().upper()
        pattern = FixPattern(payer.payer_id, code, f"{denial.group_code}-{denial.reason_code}")
        found.append(_DeniedLine(pattern, service, line))
    return found


def _change(denied: _DeniedLine, correction: dict[str, Any]) -> Change:
    before = tuple(sorted(m.upper() for m in denied.service.modifiers))
    modifiers = correction.get("modifiers")
    after = tuple(sorted(m.upper() for m in modifiers)) if modifiers is not None else before
    code = correction.get("procedure_code")
    pointers = correction.get("diagnosis_pointers")
    return Change(
        added_modifiers=tuple(m for m in after if m not in before),
        removed_modifiers=tuple(m for m in before if m not in after),
        procedure_code=code if code and code != denied.pattern.procedure_code else None,
        diagnosis_pointers=(
            tuple(pointers)
            if pointers and list(pointers) != list(denied.line.diagnosis_pointers)
            else None
        ),
    )


def _paid_after(session: Session, denied: _DeniedLine) -> bool | None:
    """The line's next adjudication: paid (True), not (False), none yet (None)."""
    later = session.exec(
        select(ServicePayment)
        .where(ServicePayment.claim_line_id == denied.line.id)
        .where(col(ServicePayment.claim_payment_id) > denied.service.claim_payment_id)
        .order_by(col(ServicePayment.claim_payment_id))
    ).first()
    return None if later is None else later.paid > 0


def fix_records(
    session: Session, *, payer_id: int | None = None, carc: tuple[str, str] | None = None
) -> dict[FixPattern, list[FixRecord]]:
    """Every pattern's corrections and how they fared, the most often paid first (only
    payer row ``payer_id``'s, only denials with ``carc`` (group, reason), when given)."""
    query = (
        select(ReviewTask, ReviewDecision)
        .join(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
        .where(ReviewTask.kind == "denial")
    )
    if payer_id is not None:
        query = query.where(ReviewTask.payer_id == payer_id)
    rows = session.exec(query).all()
    tally: dict[tuple[FixPattern, Change], list[int]] = defaultdict(lambda: [0, 0])
    for task, decided in rows:
        decision = decided.decision
        denial_id = task.context.get("denial_id")
        if decision.get("action") != "corrected_claim" or not isinstance(denial_id, int):
            continue
        denial = session.get(Denial, denial_id)
        if denial is None or (carc and (denial.group_code, denial.reason_code) != carc):
            continue
        by_number = {
            c.get("line_number"): c for c in (decision.get("corrections") or {}).get("lines", [])
        }
        for denied in _denied_lines(session, denial):
            correction = by_number.get(denied.line.line_number)
            change = _change(denied, correction) if correction else Change()
            outcome = _paid_after(session, denied) if change else None
            if outcome is None:
                continue
            counts = tally[(denied.pattern, change)]
            counts[0] += int(outcome)
            counts[1] += 1
    records: dict[FixPattern, list[FixRecord]] = defaultdict(list)
    for (pattern, change), (paid, answered) in tally.items():
        records[pattern].append(FixRecord(pattern, change, paid, answered))
    for found in records.values():
        found.sort(key=lambda r: (-r.paid, r.answered, r.change.words))
    return dict(records)


def best_fix(records: list[FixRecord], *, min_paid: int = MIN_PAID) -> FixRecord | None:
    """The most often paid change, if paid at least ``min_paid`` times and more than half."""
    for record in records:
        if record.paid >= min_paid and record.paid * 2 > record.answered:
            return record
    return None


def _decision(line: ClaimLine, record: FixRecord) -> dict[str, Any]:
    change = record.change
    correction: dict[str, Any] = {"line_number": line.line_number}
    if change.added_modifiers or change.removed_modifiers:
        kept = [m for m in (line.modifiers or []) if m.upper() not in change.removed_modifiers]
        correction["modifiers"] = kept + [m for m in change.added_modifiers if m not in kept]
    if change.procedure_code:
        correction["procedure_code"] = change.procedure_code
    if change.diagnosis_pointers:
        correction["diagnosis_pointers"] = list(change.diagnosis_pointers)
    return {
        "action": "corrected_claim",
        "corrections": {"lines": [correction]},
        "reason": f"learned fix: {record.words}"[:1000],
    }


def learned_fix(
    session: Session, task: ReviewTask, *, min_paid: int = MIN_PAID
) -> LearnedFix | None:
    """The fix for denial task ``task``'s pattern, if the office's corrections learned one
    (the line must still need it: a line already corrected that way is offered nothing)."""
    denial_id = task.context.get("denial_id")
    if task.kind != "denial" or not isinstance(denial_id, int):
        return None
    denial = session.get(Denial, denial_id)
    if denial is None:
        return None
    records = fix_records(
        session, payer_id=task.payer_id, carc=(denial.group_code, denial.reason_code)
    )
    for denied in _denied_lines(session, denial):
        record = best_fix(records.get(denied.pattern, []), min_paid=min_paid)
        if record is None:
            continue
        decision = _decision(denied.line, record)
        line = decision["corrections"]["lines"][0]
        if len(line) == 1 or line.get("modifiers") == list(denied.line.modifiers or []):
            continue  # nothing left to change on this line
        assert task.id is not None
        return LearnedFix(task.id, denied.line.line_number, record, decision)
    return None


def read_learned_fix(engine: Engine, *, username: str, task_id: int) -> LearnedFix | None:
    """The learned fix the task page offers on denial task ``task_id`` (audited when one is)."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), "task.view", session=session)
        task = session.get(ReviewTask, task_id)
        if task is None:
            return None
        found = learned_fix(session, task)
        if found is not None:
            append_audit_event(
                session,
                actor=username,
                action="learned_fix.offered",
                entity_type="review_task",
                entity_id=task_id,
                claim_id=task.claim_id,
                details={"fix": found.words, "line_number": found.line_number},
            )
        return found
