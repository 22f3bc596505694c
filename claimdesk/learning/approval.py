"""Learned rules as rows: a suggestion or a hand-written rule is stored, a lead approves
(or dismisses) it, and approving raises the learned pack's version the scrub records.

Every decision is checked (``rules.approve``, leads only) and audited; a refusal is
audited by ``claimdesk.access.permissions``. From the next scrub on, the submission
stage runs the approved rules (``claimdesk.submission.learned.scrub_pack``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from claimdesk.access.permissions import require
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.learning.backtest import Backtest
from claimdesk.learning.patterns import Suggestion
from claimdesk.learning.status import LEARNED_RULE
from claimdesk.rules import DEFAULT_PACK
from claimdesk.rules.learned import LearnedRuleSpec, fix_for
from claimdesk.submission.learned import learned_pack_version, scrub_pack, spec_of
from models import LearnedRule, User, append_audit_event
from models.types import utcnow

if TYPE_CHECKING:
    from claimdesk.access.permissions import Actor

APPROVE = "rules.approve"


def store_rule(
    session: Session,
    spec: LearnedRuleSpec,
    *,
    actor: str,
    evidence: dict[str, Any] | None = None,
) -> LearnedRule:
    """The row for ``spec``: the live one (suggested or approved) if one exists, else new."""
    live = session.exec(
        select(LearnedRule).where(
            LearnedRule.payer_code == spec.payer_id,
            LearnedRule.kind == spec.kind,
            LearnedRule.procedure_code == spec.procedure_code,
            LearnedRule.modifier == spec.modifier,
            LearnedRule.other_code == spec.other_code,
            LearnedRule.status.in_(("suggested", "approved")),  # type: ignore[attr-defined]
        )
    ).first()
    if live is not None:
        if live.status == "suggested" and evidence:
            live.evidence = evidence
            live.words = spec.words or live.words
            session.add(live)
            session.flush()
        return live
    row = LearnedRule(
        payer_code=spec.payer_id,
        kind=spec.kind,
        procedure_code=spec.procedure_code,
        modifier=spec.modifier,
        other_code=spec.other_code,
        words=spec.words or _default_words(spec),
        fix=spec.fix or fix_for(spec),
        evidence=evidence or {},
        created_by=actor,
    )
    session.add(row)
    session.flush()
    append_audit_event(
        session,
        actor=actor,
        action="learned_rule.suggested",
        entity_type="learned_rule",
        entity_id=row.id,
        details={"words": row.words, "evidence": row.evidence},
    )
    return row


def store_suggestion(
    session: Session, suggestion: Suggestion, test: Backtest, *, actor: str
) -> LearnedRule:
    evidence = {
        "carc": suggestion.carc,
        "denied": [suggestion.bad_denied, suggestion.bad_total],
        "other_side_denied": [suggestion.good_denied, suggestion.good_total],
        "claims": suggestion.claims,
        "dollars": str(suggestion.dollars),
        "window_days": suggestion.window_days,
        "backtest": test.model_dump(mode="json", exclude={"rule"}),
    }
    return store_rule(session, suggestion.rule, actor=actor, evidence=evidence)


def approve_rule(
    session: Session, rule_id: int, *, user: User | Actor, reason: str | None = None
) -> LearnedRule:
    """Approve rule ``rule_id`` (a lead): the scrub runs it from the next claim on."""
    require(user, APPROVE, session=session)
    row = _rule(session, rule_id)
    LEARNED_RULE.move(row, "approved")
    row.pack_version = learned_pack_version(session) + 1
    return _decided(session, row, user, "learned_rule.approved", reason)


def dismiss_rule(session: Session, rule_id: int, *, user: User | Actor, reason: str) -> LearnedRule:
    """Dismiss a suggestion, with the reason (kept with the row and in the audit trail)."""
    require(user, APPROVE, session=session)
    if not reason.strip():
        raise ValidationFailed("dismissing a rule needs a reason", field="reason")
    row = _rule(session, rule_id)
    LEARNED_RULE.move(row, "dismissed")
    return _decided(session, row, user, "learned_rule.dismissed", reason)


def retire_rule(session: Session, rule_id: int, *, user: User | Actor, reason: str) -> LearnedRule:
    """Switch an approved rule off; the pack's version rises again."""
    require(user, APPROVE, session=session)
    if not reason.strip():
        raise ValidationFailed("retiring a rule needs a reason", field="reason")
    row = _rule(session, rule_id)
    LEARNED_RULE.move(row, "retired")
    row.pack_version = learned_pack_version(session) + 1
    return _decided(session, row, user, "learned_rule.retired", reason)


def rule_spec(session: Session, rule_id: int) -> LearnedRuleSpec:
    return spec_of(_rule(session, rule_id))


def _rule(session: Session, rule_id: int) -> LearnedRule:
    row = session.get(LearnedRule, rule_id)
    if row is None:
        raise NotFound(f"learned rule {rule_id} does not exist; see `claimdesk rules suggest`.")
    return row


def _decided(
    session: Session, row: LearnedRule, user: User | Actor, action: str, reason: str | None
) -> LearnedRule:
    row.decided_by = user.username
    row.decided_at = utcnow()
    row.decision_reason = reason
    session.add(row)
    session.flush()
    append_audit_event(
        session,
        actor=user.username,
        action=action,
        entity_type="learned_rule",
        entity_id=row.id,
        details={
            "words": row.words,
            "reason": reason,
            "pack": scrub_pack(session, DEFAULT_PACK).label,
        },
    )
    return row


def _default_words(spec: LearnedRuleSpec) -> str:
    if spec.kind == "required_modifier":
        return f"{spec.payer_id}: {spec.procedure_code} without {spec.modifier} → hold"
    return f"{spec.payer_id}: {spec.procedure_code} with {spec.other_code} same day → hold"
