"""A claim's story for the task page: its lines, the payer's answers, its timeline.

Opening a task is the work queue's most frequent read, so it asks little: the
first query (``story_probes``, columns of the task page's one join) says which of
the claim's tables hold anything for it, and only those are read; usernames come
in their rows' query by join, never one look-up per row. Each table is read once
even where two parts of the page show it (eligibility, submissions, status checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, exists, literal_column
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from claimdesk.codes import meanings as codes
from models import (
    Adjustment,
    AuditEvent,
    Claim,
    ClaimLine,
    ClaimPayment,
    Comment,
    Denial,
    Diagnosis,
    Document,
    DocumentLink,
    EligibilityCheck,
    RemarkCode,
    ReviewDecision,
    ReviewTask,
    StatusCheck,
    Submission,
    SubmissionClaim,
    User,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str  # audit, transaction, decision, comment, flow
    text: str
    actor: str = ""


@dataclass(frozen=True)
class CodeLine:
    code: str
    meaning: str
    amount: Decimal | None = None


def _any(model: Any, *where: Any) -> Any:
    return exists(sa_select(literal_column("1")).select_from(model).where(*where))


_TASK_OF_DECISION = aliased(ReviewTask)


def story_probes() -> dict[str, Any]:
    """EXISTS tests, correlated to the outer query's ``Claim``: which tables to read."""
    cid = col(Claim.id)
    return {
        "lines": _any(ClaimLine, col(ClaimLine.claim_id) == cid),
        "diagnoses": _any(Diagnosis, col(Diagnosis.claim_id) == cid),
        "eligibility": _any(
            EligibilityCheck,
            or_(
                col(EligibilityCheck.claim_id) == cid,
                col(EligibilityCheck.coverage_id) == col(Claim.coverage_id),
            ),
        ),
        "documents": _any(DocumentLink, col(DocumentLink.claim_id) == cid),
        "comments": _any(Comment, col(Comment.claim_id) == cid),
        "submissions": _any(SubmissionClaim, col(SubmissionClaim.claim_id) == cid),
        "status_checks": _any(StatusCheck, col(StatusCheck.claim_id) == cid),
        "payments": _any(ClaimPayment, col(ClaimPayment.claim_id) == cid),
        "denials": _any(Denial, col(Denial.claim_id) == cid),
        "events": _any(
            AuditEvent, col(AuditEvent.claim_id) == cid, col(AuditEvent.action) != "claim.viewed"
        ),
        "decisions": exists(
            sa_select(literal_column("1"))
            .select_from(ReviewDecision)
            .join(
                _TASK_OF_DECISION,
                col(_TASK_OF_DECISION.id) == col(ReviewDecision.review_task_id),
            )
            .where(col(_TASK_OF_DECISION.claim_id) == cid)
        ),
    }


def probe_mask() -> Any:
    """The probes as one integer column (bit n: probe n found rows): one column, not twelve."""
    # Constants written into the SQL, not parameters to bind at every execution.
    bits = (
        case((probe, literal_column(str(1 << n))), else_=literal_column("0"))
        for n, probe in enumerate(_PROBE_LIST)
    )
    return sum(bits, start=literal_column("0")).label("story_mask")


def probes_found(mask: int) -> dict[str, bool]:
    return {name: bool(mask >> n & 1) for n, name in enumerate(_PROBE_NAMES)}


_PROBE_NAMES = tuple(story_probes())
_PROBE_LIST = tuple(story_probes().values())


@dataclass
class ClaimStory:
    lines: list[ClaimLine]
    diagnoses: list[Diagnosis]
    eligibility: list[EligibilityCheck]
    payer_answer: list[CodeLine]
    documents: list[Document]
    comments: list[tuple[datetime, str, str]]
    timeline: list[TimelineEntry]


def read_claim_story(
    session: Session, task: ReviewTask, claim: Claim, has: dict[str, bool]
) -> ClaimStory:
    """What the task page shows of ``claim``, reading only the tables ``has`` marks."""
    cid = claim.id
    lines = (
        list(
            session.exec(
                select(ClaimLine)
                .where(ClaimLine.claim_id == cid)
                .order_by(col(ClaimLine.line_number))
            )
        )
        if has["lines"]
        else []
    )
    diagnoses = (
        list(
            session.exec(
                select(Diagnosis).where(Diagnosis.claim_id == cid).order_by(col(Diagnosis.position))
            )
        )
        if has["diagnoses"]
        else []
    )
    eligibility = (
        list(
            session.exec(
                select(EligibilityCheck)
                .where(
                    or_(
                        col(EligibilityCheck.claim_id) == cid,
                        col(EligibilityCheck.coverage_id) == claim.coverage_id,
                    )
                )
                .order_by(col(EligibilityCheck.requested_at).desc())
            )
        )
        if has["eligibility"]
        else []
    )
    submissions: list[tuple[SubmissionClaim, Submission | None]] = (
        list(
            session.exec(
                select(SubmissionClaim, Submission)
                .outerjoin(Submission, col(SubmissionClaim.submission_id) == col(Submission.id))
                .where(SubmissionClaim.claim_id == cid)
                .order_by(col(SubmissionClaim.id))
            )
        )
        if has["submissions"]
        else []
    )
    checks = (
        list(
            session.exec(
                select(StatusCheck).where(StatusCheck.claim_id == cid).order_by(col(StatusCheck.id))
            )
        )
        if has["status_checks"]
        else []
    )
    documents = (
        list(
            session.exec(
                select(Document)
                .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
                .where(DocumentLink.claim_id == cid)
                .order_by(col(Document.created_at))
            )
        )
        if has["documents"]
        else []
    )
    comments = (
        [
            (at, who or "?", body)
            for at, who, body in session.exec(
                select(Comment.created_at, User.username, Comment.body)
                .outerjoin(User, col(User.id) == col(Comment.author_id))
                .where(Comment.claim_id == cid)
                .order_by(col(Comment.created_at))
            )
        ]
        if has["comments"]
        else []
    )
    answer = _payer_answer(session, task, claim, has, submissions, checks)
    timeline = _timeline(session, task, claim, has, eligibility, submissions, checks, comments)
    return ClaimStory(lines, diagnoses, eligibility[:5], answer, documents, comments, timeline)


def _payer_answer(
    session: Session,
    task: ReviewTask,
    claim: Claim,
    has: dict[str, bool],
    submissions: list[tuple[SubmissionClaim, Submission | None]],
    checks: list[StatusCheck],
) -> list[CodeLine]:
    answer: list[CodeLine] = []
    for carc in task.context.get("carc_codes", []) or []:
        answer.append(CodeLine(f"CARC {carc}", codes.carc_meaning(str(carc))))
    for sub, _submission in submissions:
        for stc in sub.stc_codes:
            answer.append(CodeLine(f"277CA {stc}", codes.stc_meaning(stc)))
    for check in checks:
        if check.category_code or check.status_code:
            answer.append(
                CodeLine(
                    f"277 {check.category_code or ''}:{check.status_code or ''}",
                    codes.status_meaning(check.category_code, check.status_code),
                    check.amount_paid,
                )
            )
    payments = (
        list(session.exec(select(ClaimPayment).where(ClaimPayment.claim_id == claim.id)))
        if has["payments"]
        else []
    )
    for payment in payments:
        for adj in session.exec(
            select(Adjustment).where(Adjustment.claim_payment_id == payment.id)
        ):
            answer.append(
                CodeLine(
                    f"{adj.group_code}-{adj.reason_code}",
                    f"{codes.group_meaning(adj.group_code)}: {codes.carc_meaning(adj.reason_code)}",
                    adj.amount,
                )
            )
        for remark in session.exec(
            select(RemarkCode).where(RemarkCode.claim_payment_id == payment.id)
        ):
            answer.append(CodeLine(f"RARC {remark.code}", codes.rarc_meaning(remark.code)))
    denials: list[Denial] = (
        list(session.exec(select(Denial).where(Denial.claim_id == claim.id)))
        if has["denials"]
        else []
    )
    for denial in denials:
        answer.append(
            CodeLine(
                f"Denial {denial.group_code}-{denial.reason_code} ({denial.status})",
                codes.carc_meaning(denial.reason_code),
                denial.amount,
            )
        )
    return answer


_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
# The four columns shown, not whole rows (a claim's trail can be long); built once.
_CLAIM_EVENTS = (
    sa_select(_EVENTS.c.at, _EVENTS.c.actor, _EVENTS.c.action, _EVENTS.c.details)
    .where(_EVENTS.c.claim_id == bindparam("claim_id"), _EVENTS.c.action != "claim.viewed")
    .order_by(_EVENTS.c.id.desc())
    .limit(200)
)


def _timeline(
    session: Session,
    task: ReviewTask,
    claim: Claim,
    has: dict[str, bool],
    eligibility: list[EligibilityCheck],
    submissions: list[tuple[SubmissionClaim, Submission | None]],
    checks: list[StatusCheck],
    comments: list[tuple[datetime, str, str]],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    if has["events"]:
        for at, actor, action, details in session.execute(_CLAIM_EVENTS, {"claim_id": claim.id}):
            detail = ", ".join(f"{k}={v}" for k, v in details.items() if v is not None)
            entries.append(TimelineEntry(at, "audit", f"{action} {detail}".strip(), actor))
    for elig in eligibility:
        if elig.claim_id == claim.id:
            entries.append(
                TimelineEntry(
                    elig.requested_at, "transaction", f"270/271 eligibility: {elig.outcome}"
                )
            )
    for sc, sub in submissions:
        if sub is None:
            continue
        entries.append(
            TimelineEntry(
                sub.sent_at or sub.created_at,
                "transaction",
                f"837 ISA13 {sub.interchange_control_number} v{sc.claim_version}: "
                f"{sub.status}, 999 {sub.ack_999_status or '-'}, 277CA {sc.outcome or '-'}",
            )
        )
    for check in checks:
        entries.append(
            TimelineEntry(
                check.checked_at,
                "transaction",
                f"276/277 status {check.category_code or '-'}:{check.status_code or '-'}",
            )
        )
    if has["decisions"]:
        for decision, kind, who in session.exec(
            select(ReviewDecision, ReviewTask.kind, User.username)
            .join(ReviewTask, col(ReviewTask.id) == col(ReviewDecision.review_task_id))
            .outerjoin(User, col(User.id) == col(ReviewDecision.decided_by_id))
            .where(ReviewTask.claim_id == claim.id)
        ):
            action = decision.decision.get("action", "")
            entries.append(
                TimelineEntry(
                    decision.decided_at,
                    "decision",
                    f"{kind} decision #{decision.id}: {action}"
                    + (" (applied)" if decision.applied_at else ""),
                    who or "",
                )
            )
    entries.extend(TimelineEntry(at, "comment", body, who) for at, who, body in comments)
    if task.flow_run_id:
        # The entry marks when the run started waiting; the page's caption shows its state now.
        paused = f"flow run {task.flow_run_id} paused for this task"
        entries.append(TimelineEntry(task.created_at, "flow", paused))
    return sorted(entries, key=lambda e: e.at, reverse=True)
