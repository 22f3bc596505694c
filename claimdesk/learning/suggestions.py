"""The Suggestions page's service: the learned rules a lead weighs, the learners run again
on request, and a lead's approval or dismissal (``claimdesk.learning.approval``).

Leads and managers read (``rules.view``); only a lead decides (``rules.approve``). The
rows hold codes, counts and dollars, never a patient; each read is audited all the same,
as every decision and refusal is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.learning import approval
from claimdesk.learning.backtest import backtest
from claimdesk.learning.history import line_outcomes
from claimdesk.learning.patterns import suggest_rules
from claimdesk.settings import Settings
from models import LearnedRule, append_audit_event

VIEW = "rules.view"
SHOWN = ("suggested", "approved")


@dataclass(frozen=True)
class RuleBacktest:
    claims_replayed: int
    claims_held: int
    denials_caught: int
    dollars_caught: Decimal
    false_holds: int
    denials_missed: int


@dataclass(frozen=True)
class RuleView:
    id: int
    status: str
    payer_code: str
    kind: str
    procedure_code: str
    modifier: str | None
    other_code: str | None
    words: str
    fix: str
    carc: str | None
    denied: tuple[int, int] | None  # (denied, lines) on the side the rule holds
    other_side_denied: tuple[int, int] | None
    claims: int | None
    dollars: Decimal | None
    window_days: int | None
    backtest: RuleBacktest | None
    created_at: datetime
    decided_by: str | None
    decision_reason: str | None

    @property
    def pattern(self) -> str:
        if self.kind == "required_modifier":
            return f"{self.payer_code} · {self.procedure_code} without modifier {self.modifier}"
        return f"{self.payer_code} · {self.procedure_code} billed with {self.other_code}"


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _backtest(value: Any) -> RuleBacktest | None:
    if not isinstance(value, dict):
        return None
    try:
        return RuleBacktest(
            claims_replayed=int(value["claims_replayed"]),
            claims_held=int(value["claims_held"]),
            denials_caught=int(value["denials_caught"]),
            dollars_caught=Decimal(str(value["dollars_caught"])),
            false_holds=int(value["false_holds"]),
            denials_missed=int(value.get("denials_missed", 0)),
        )
    except (KeyError, ValueError, ArithmeticError):
        return None  # a hand-written rule's evidence need not carry a backtest


def rule_view(row: LearnedRule) -> RuleView:
    evidence = row.evidence or {}
    dollars = evidence.get("dollars")
    window = evidence.get("window_days")
    claims = evidence.get("claims")
    assert row.id is not None
    return RuleView(
        id=row.id,
        status=row.status,
        payer_code=row.payer_code,
        kind=row.kind,
        procedure_code=row.procedure_code,
        modifier=row.modifier,
        other_code=row.other_code,
        words=row.words,
        fix=row.fix,
        carc=evidence.get("carc"),
        denied=_pair(evidence.get("denied")),
        other_side_denied=_pair(evidence.get("other_side_denied")),
        claims=int(claims) if isinstance(claims, int) else None,
        dollars=Decimal(str(dollars)) if dollars is not None else None,
        window_days=int(window) if isinstance(window, int) else None,
        backtest=_backtest(evidence.get("backtest")),
        created_at=row.created_at,
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
    )


def _rows(session: Session, statuses: tuple[str, ...]) -> list[LearnedRule]:
    return list(
        session.exec(
            select(LearnedRule)
            .where(col(LearnedRule.status).in_(statuses))
            .order_by(col(LearnedRule.status).desc(), col(LearnedRule.id))
        ).all()
    )


def read_rules(
    engine: Engine, *, username: str, statuses: tuple[str, ...] = SHOWN
) -> list[RuleView]:
    """The learned rules in ``statuses`` (suggestions first, then the approved ones)."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), VIEW, session=session)
        views = [rule_view(row) for row in _rows(session, statuses)]
        append_audit_event(
            session,
            actor=username,
            action="learned_rule.listed",
            entity_type="learned_rule",
            details={"statuses": list(statuses), "rule_ids": [v.id for v in views]},
        )
        return views


def find_suggestions(
    engine: Engine, settings: Settings, *, username: str, today: date
) -> list[int]:
    """Run the learners over the window before ``today``; store each suggestion (a new
    row, or fresh figures on the live one); return the rows' ids."""
    window = settings.learning_window_days
    with session_scope(engine) as session:
        require(load_active_user(session, username), VIEW, session=session)
        history = line_outcomes(session, today=today, days=window)
        ids: list[int] = []
        for found in suggest_rules(
            history, window_days=window, min_lines=settings.learning_min_lines
        ):
            row = approval.store_suggestion(
                session, found, backtest(found.rule, history), actor=username
            )
            assert row.id is not None
            ids.append(row.id)
        append_audit_event(
            session,
            actor=username,
            action="learned_rule.searched",
            entity_type="learned_rule",
            details={"window_days": window, "today": today.isoformat(), "rule_ids": ids},
        )
        return ids


def backtest_again(
    engine: Engine, settings: Settings, *, username: str, rule_id: int, today: date
) -> RuleBacktest:
    """Replay rule ``rule_id`` over the window before ``today`` as it stands now (an
    approved rule's figures since it was suggested); audited, nothing stored."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), VIEW, session=session)
        spec = approval.rule_spec(session, rule_id)
        history = line_outcomes(session, today=today, days=settings.learning_window_days)
        result = backtest(spec, history)
        append_audit_event(
            session,
            actor=username,
            action="learned_rule.backtested",
            entity_type="learned_rule",
            entity_id=rule_id,
            details={"today": today.isoformat(), "words": result.words},
        )
        return RuleBacktest(
            claims_replayed=result.claims_replayed,
            claims_held=result.claims_held,
            denials_caught=result.denials_caught,
            dollars_caught=result.dollars_caught,
            false_holds=result.false_holds,
            denials_missed=result.denials_missed,
        )


def decide_rule(
    engine: Engine,
    *,
    username: str,
    rule_id: int,
    decision: Literal["approve", "dismiss"],
    reason: str | None,
) -> RuleView:
    """A lead approves (the scrub runs it from the next claim) or dismisses (a reason
    needed) rule ``rule_id``; both audited, a refusal too."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        if decision == "approve":
            row = approval.approve_rule(session, rule_id, user=user, reason=reason or None)
        else:
            row = approval.dismiss_rule(session, rule_id, user=user, reason=reason or "")
        return rule_view(row)
