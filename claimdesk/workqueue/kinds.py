"""Every kind of review task, one row each: who resolves it, its SLA, its check, its applier.

The kind's name and decision model come from ``claimdesk.review.decisions`` (each model
names its kind); everything else about a kind is here and nowhere else. A new kind is a
decision model, one row below and its applier in its stage package; the generic review
module (``claimdesk.review``) and the queue know no kind by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from claimdesk.billing import collections, deposits, plans, refunds
from claimdesk.claims.corrections import check_correction_lines
from claimdesk.denials import decisions as denial_decisions
from claimdesk.denials import workflow as denial_workflow
from claimdesk.eligibility.decisions import apply_eligibility_decision
from claimdesk.eligibility.visits import apply_visit_eligibility_decision
from claimdesk.remittance.posting import apply_remittance_decision
from claimdesk.review.decisions import (
    AppealSendDecision,
    BatchRejectionDecision,
    CollectionsDecision,
    DenialDecision,
    DepositDecision,
    DepositMissingDecision,
    EligibilityDecision,
    PaymentPlanDecision,
    RefundDecision,
    RejectionDecision,
    RemittanceDecision,
    ScrubDecision,
    StatusDecision,
    VisitEligibilityDecision,
    WriteOffApprovalDecision,
    _Decision,
)
from claimdesk.status_polling.decisions import apply_status_decision
from claimdesk.submission import decisions as submission_decisions
from models import ReviewTask

Check = Callable[[Session, ReviewTask, Any], None]
Apply = Callable[..., str]  # (session, task, decision, *, actor) -> what happened (a code)

WORKERS = frozenset({"specialist", "lead"})
LEADS = frozenset({"lead"})


@dataclass(frozen=True)
class ReviewKind:
    decision: type[_Decision]
    resolvers: frozenset[str]  # roles that may resolve it (and see it in their queue)
    sla_hours: int  # working hours it may sit untouched before a lead gets it
    apply: Apply
    check: Check | None = None  # refuses, before it is stored, what the data forbids

    @property
    def name(self) -> str:
        return self.decision.kind


# In the order the queue's kind filter lists them.
_ROWS = (
    ReviewKind(EligibilityDecision, WORKERS, 24, apply_eligibility_decision),
    # Before a scheduled visit: short, the patient is coming.
    ReviewKind(VisitEligibilityDecision, WORKERS, 8, apply_visit_eligibility_decision),
    ReviewKind(
        ScrubDecision,
        WORKERS,
        24,
        submission_decisions.apply_scrub_decision,
        check_correction_lines,
    ),
    ReviewKind(
        RejectionDecision,
        WORKERS,
        24,
        submission_decisions.apply_rejection_decision,
        check_correction_lines,
    ),
    ReviewKind(
        BatchRejectionDecision, LEADS, 8, submission_decisions.apply_batch_rejection_decision
    ),
    ReviewKind(
        DenialDecision,
        WORKERS,
        72,
        denial_decisions.apply_denial_decision,
        denial_decisions.check_denial_task,
    ),
    ReviewKind(AppealSendDecision, WORKERS, 24, denial_workflow.apply_appeal_send_decision),
    ReviewKind(StatusDecision, WORKERS, 72, apply_status_decision),
    ReviewKind(RemittanceDecision, WORKERS, 48, apply_remittance_decision),
    ReviewKind(WriteOffApprovalDecision, LEADS, 48, denial_decisions.apply_write_off_approval),
    ReviewKind(RefundDecision, LEADS, 72, refunds.apply_refund_decision),
    ReviewKind(PaymentPlanDecision, WORKERS, 72, plans.apply_payment_plan_decision),
    ReviewKind(CollectionsDecision, WORKERS, 72, collections.apply_collections_decision),
    ReviewKind(DepositDecision, WORKERS, 72, deposits.apply_deposit_decision),
    ReviewKind(DepositMissingDecision, WORKERS, 72, deposits.apply_deposit_decision),
)
KINDS: dict[str, ReviewKind] = {row.name: row for row in _ROWS}
ALL_KINDS: tuple[str, ...] = tuple(KINDS)
# Roles that work tasks (a reassignment may hand a task only to one of them).
WORKING_ROLES: frozenset[str] = frozenset().union(*(row.resolvers for row in _ROWS))


def review_kind(kind: str) -> ReviewKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise KeyError(f"no review kind {kind!r}") from None


def kinds_for_role(role: str) -> tuple[str, ...]:
    """The queues a role sees: a working role its own kinds, the others every queue."""
    if role not in WORKING_ROLES:
        return ALL_KINDS
    return tuple(name for name, row in KINDS.items() if role in row.resolvers)
