"""The pack a scrub runs with: the core pack plus the learned rules a lead approved."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from claimdesk.rules import DEFAULT_PACK, RulePack
from claimdesk.rules.learned import LearnedRuleSpec, with_learned
from models import LearnedRule


def learned_pack_version(session: Session) -> int:
    """The learned pack's version: every approval or retirement raised it by one."""
    return int(session.exec(select(func.max(col(LearnedRule.pack_version)))).one() or 0)


def approved_specs(session: Session) -> list[LearnedRuleSpec]:
    rows = session.exec(
        select(LearnedRule).where(LearnedRule.status == "approved").order_by(col(LearnedRule.id))
    ).all()
    return [spec_of(row) for row in rows]


def spec_of(row: LearnedRule) -> LearnedRuleSpec:
    return LearnedRuleSpec(
        id=str(row.id),
        payer_id=row.payer_code,
        kind="bundled_pair" if row.kind == "bundled_pair" else "required_modifier",
        procedure_code=row.procedure_code,
        modifier=row.modifier,
        other_code=row.other_code,
        words=row.words,
        fix=row.fix,
    )


def scrub_pack(session: Session, base: RulePack = DEFAULT_PACK) -> RulePack:
    return with_learned(base, approved_specs(session), learned_pack_version(session))
