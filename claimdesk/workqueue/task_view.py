"""One task with its claim's whole story, for the task page (full PHI, so every read is audited).

Also the task page's actions other than claiming: comments, attachments for
appeals, document downloads, and submitting a decision through ``resolve_review``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.claims.ledger import ClaimBalance, claim_balance
from claimdesk.codes import meanings as codes
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.workqueue.necessary import require_claim_access, require_task_access
from claimdesk.workqueue.reasons import Reason, why_in_queue
from models import (
    Adjustment,
    AuditEvent,
    Claim,
    ClaimLine,
    ClaimPayment,
    Comment,
    Coverage,
    Denial,
    Diagnosis,
    Document,
    DocumentLink,
    EligibilityCheck,
    Patient,
    Payer,
    RemarkCode,
    ReviewDecision,
    ReviewTask,
    StatusCheck,
    Submission,
    SubmissionClaim,
    User,
    append_audit_event,
)

# Attachments bigger than this belong in the payer's portal, not an X12 PWK: refuse early.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_KINDS = ("attachment", "appeal_letter")


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


@dataclass
class TaskView:
    task: ReviewTask
    claim: Claim | None
    patient: Patient | None
    coverage: Coverage | None
    payer: Payer | None
    assignee: str | None
    lines: list[ClaimLine] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    eligibility: list[EligibilityCheck] = field(default_factory=list)
    payer_answer: list[CodeLine] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    comments: list[tuple[datetime, str, str]] = field(default_factory=list)
    flow_run_url: str | None = None
    decision: dict[str, Any] | None = None
    decided_by: str | None = None
    balance: ClaimBalance | None = None  # the encounter's money (claims.ledger)

    @property
    def reason(self) -> Reason:
        """Why the task is here and what to do (shown at the top of the task page)."""
        return why_in_queue(self.task.kind, self.task.context)


def prefect_ui_url(prefect_api_url: str | None) -> str | None:
    """The Prefect UI's base URL: the API URL without its ``/api`` suffix."""
    if not prefect_api_url:
        return None
    return prefect_api_url.rstrip("/").removesuffix("/api")


def read_task_view(
    engine: Engine,
    *,
    username: str,
    task_id: int,
    prefect_api_url: str | None = None,
    reason: str | None = None,
) -> TaskView:
    """Everything the task page shows; audited as a view of the claim's PHI.

    A task outside the user's own queues needs a ``reason`` (``claimdesk.workqueue.necessary``).
    """
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "claim.view_phi")
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        require_task_access(session, user, task, reason=reason)
        claim = session.get(Claim, task.claim_id) if task.claim_id else None
        view = TaskView(
            task=task,
            claim=claim,
            patient=session.get(Patient, claim.patient_id) if claim else None,
            coverage=session.get(Coverage, claim.coverage_id) if claim else None,
            payer=session.get(Payer, claim.payer_id if claim else task.payer_id or 0),
            assignee=_username(session, task.assignee_id),
        )
        if claim is not None:
            _fill_claim(session, view, claim)
        ui = prefect_ui_url(prefect_api_url)
        if ui and task.flow_run_id:
            view.flow_run_url = f"{ui}/runs/flow-run/{task.flow_run_id}"
        if task.decision_id:
            decision = session.get(ReviewDecision, task.decision_id)
            view.decision = decision.decision if decision else None
            view.decided_by = _username(session, decision.decided_by_id) if decision else None
        append_audit_event(
            session,
            actor=user.username,
            action="claim.viewed",
            entity_type="review_task",
            entity_id=task_id,
            claim_id=task.claim_id,
            details={"page": "task"},
        )
        session.expunge_all()
    return view


def _username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.username if user else None


def _fill_claim(session: Session, view: TaskView, claim: Claim) -> None:
    cid = claim.id
    view.lines = list(
        session.exec(
            select(ClaimLine).where(ClaimLine.claim_id == cid).order_by(col(ClaimLine.line_number))
        )
    )
    view.diagnoses = list(
        session.exec(
            select(Diagnosis).where(Diagnosis.claim_id == cid).order_by(col(Diagnosis.position))
        )
    )
    view.eligibility = list(
        session.exec(
            select(EligibilityCheck)
            .where(
                or_(
                    col(EligibilityCheck.claim_id) == cid,
                    col(EligibilityCheck.coverage_id) == claim.coverage_id,
                )
            )
            .order_by(col(EligibilityCheck.requested_at).desc())
            .limit(5)
        )
    )
    view.payer_answer = _payer_answer(session, view.task, claim)
    view.documents = list(
        session.exec(
            select(Document)
            .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
            .where(DocumentLink.claim_id == cid)
            .order_by(col(Document.created_at))
        )
    )
    view.comments = [
        (c.created_at, _username(session, c.author_id) or "?", c.body)
        for c in session.exec(
            select(Comment).where(Comment.claim_id == cid).order_by(col(Comment.created_at))
        )
    ]
    view.timeline = _timeline(session, view.task, claim, view.comments)
    view.balance = claim_balance(session, cid or 0)


def _payer_answer(session: Session, task: ReviewTask, claim: Claim) -> list[CodeLine]:
    answer: list[CodeLine] = []
    for carc in task.context.get("carc_codes", []) or []:
        answer.append(CodeLine(f"CARC {carc}", codes.carc_meaning(str(carc))))
    for sub in session.exec(select(SubmissionClaim).where(SubmissionClaim.claim_id == claim.id)):
        for stc in sub.stc_codes:
            answer.append(CodeLine(f"277CA {stc}", codes.stc_meaning(stc)))
    for check in session.exec(select(StatusCheck).where(StatusCheck.claim_id == claim.id)):
        if check.category_code or check.status_code:
            answer.append(
                CodeLine(
                    f"277 {check.category_code or ''}:{check.status_code or ''}",
                    codes.status_meaning(check.category_code, check.status_code),
                    check.amount_paid,
                )
            )
    payments = list(session.exec(select(ClaimPayment).where(ClaimPayment.claim_id == claim.id)))
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
    for denial in session.exec(select(Denial).where(Denial.claim_id == claim.id)):
        answer.append(
            CodeLine(
                f"Denial {denial.group_code}-{denial.reason_code} ({denial.status})",
                codes.carc_meaning(denial.reason_code),
                denial.amount,
            )
        )
    return answer


def _timeline(
    session: Session, task: ReviewTask, claim: Claim, comments: list[tuple[datetime, str, str]]
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for event in session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.claim_id) == claim.id, col(AuditEvent.action) != "claim.viewed")
        .order_by(col(AuditEvent.id).desc())
        .limit(200)
    ):
        detail = ", ".join(f"{k}={v}" for k, v in event.details.items() if v is not None)
        entries.append(
            TimelineEntry(event.at, "audit", f"{event.action} {detail}".strip(), event.actor)
        )
    for elig in session.exec(select(EligibilityCheck).where(EligibilityCheck.claim_id == claim.id)):
        entries.append(
            TimelineEntry(elig.requested_at, "transaction", f"270/271 eligibility: {elig.outcome}")
        )
    for sub, sc in session.exec(
        select(Submission, SubmissionClaim)
        .join(SubmissionClaim, col(SubmissionClaim.submission_id) == col(Submission.id))
        .where(SubmissionClaim.claim_id == claim.id)
    ):
        entries.append(
            TimelineEntry(
                sub.sent_at or sub.created_at,
                "transaction",
                f"837 ISA13 {sub.interchange_control_number} v{sc.claim_version}: "
                f"{sub.status}, 999 {sub.ack_999_status or '-'}, 277CA {sc.outcome or '-'}",
            )
        )
    for check in session.exec(select(StatusCheck).where(StatusCheck.claim_id == claim.id)):
        entries.append(
            TimelineEntry(
                check.checked_at,
                "transaction",
                f"276/277 status {check.category_code or '-'}:{check.status_code or '-'}",
            )
        )
    for decision, kind in session.exec(
        select(ReviewDecision, ReviewTask.kind)
        .join(ReviewTask, col(ReviewTask.id) == col(ReviewDecision.review_task_id))
        .where(ReviewTask.claim_id == claim.id)
    ):
        action = decision.decision.get("action", "")
        entries.append(
            TimelineEntry(
                decision.decided_at,
                "decision",
                f"{kind} decision #{decision.id}: {action}"
                + (" (applied)" if decision.applied_at else ""),
                _username(session, decision.decided_by_id) or "",
            )
        )
    entries.extend(TimelineEntry(at, "comment", body, who) for at, who, body in comments)
    if task.flow_run_id:
        # The entry marks when the run started waiting; the page's caption shows its state now.
        paused = f"flow run {task.flow_run_id} paused for this task"
        entries.append(TimelineEntry(task.created_at, "flow", paused))
    return sorted(entries, key=lambda e: e.at, reverse=True)


def add_comment(engine: Engine, *, username: str, task_id: int, body: str) -> None:
    text = body.strip()
    if not text:
        raise ValidationFailed("comment: write something first", field="body")
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.comment")
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        comment = Comment(
            claim_id=task.claim_id, review_task_id=task_id, author_id=user.id or 0, body=text[:4000]
        )
        session.add(comment)
        session.flush()
        append_audit_event(
            session,
            actor=user.username,
            action="comment.added",
            entity_type="comment",
            entity_id=comment.id,
            claim_id=task.claim_id,
        )


def pretty_x12(data: bytes) -> str:
    """X12 one segment per line (the terminator is read from ISA; other text is returned as is)."""
    text = data.decode("latin-1")
    stripped = text.lstrip()
    if not stripped.startswith("ISA") or len(stripped) < 106:
        return text
    terminator = stripped[105]
    segments = [s.strip("\r\n") for s in stripped.split(terminator)]
    return "\n".join(f"{s}{terminator}" for s in segments if s.strip())


@dataclass(frozen=True)
class DocumentContent:
    filename: str
    content_type: str
    data: bytes
    text: str | None  # pretty-printed X12, or None for binary documents


def read_document(
    engine: Engine,
    store: DocumentStore,
    *,
    username: str,
    document_id: int,
    reason: str | None = None,
) -> DocumentContent:
    """A claim document's bytes, checked against its sha256; the read is audited."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "claim.view_phi")
        document = session.get(Document, document_id)
        link = session.exec(
            select(DocumentLink).where(DocumentLink.document_id == document_id)
        ).first()
        if document is None or link is None:
            raise NotFound(f"no claim document {document_id}")
        require_claim_access(session, user, link.claim_id, reason=reason)
        append_audit_event(
            session,
            actor=user.username,
            action="document.viewed",
            entity_type="document",
            entity_id=document_id,
            claim_id=link.claim_id,
        )
        key, sha, kind, ctype = (
            document.storage_key,
            document.sha256,
            document.kind,
            document.content_type,
        )
    data = store.get(key, sha256=sha)
    is_x12 = kind.startswith("x12_")
    extension = "x12" if is_x12 else (ctype.split("/")[-1] or "bin")
    return DocumentContent(
        filename=f"{kind}-{document_id}.{extension}",
        content_type=ctype,
        data=data,
        text=pretty_x12(data) if is_x12 else None,
    )


def attach_document(
    engine: Engine,
    store: DocumentStore,
    *,
    username: str,
    task_id: int,
    data: bytes,
    content_type: str,
    kind: str = "attachment",
) -> int:
    """Store an uploaded file (appeal letter, records) and link it to the task's claim."""
    if kind not in ATTACHMENT_KINDS:
        raise ValidationFailed(f"kind: {kind!r} is not one of {ATTACHMENT_KINDS}", field="kind")
    if not data:
        raise ValidationFailed("file: the upload is empty", field="file")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            f"file: {len(data)} bytes is over the {MAX_ATTACHMENT_BYTES} byte limit", field="file"
        )
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.resolve")
        task = session.get(ReviewTask, task_id)
        if task is None or task.claim_id is None:
            raise NotFound(f"no review task {task_id} with a claim")
    stored = store.put(data, content_type=content_type or "application/octet-stream")
    with session_scope(engine) as session:
        document = session.exec(select(Document).where(Document.sha256 == stored.sha256)).first()
        if document is None:
            document = Document(
                kind=kind,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
                storage_key=stored.key,
                direction="uploaded",
            )
            session.add(document)
            session.flush()
        linked = session.exec(
            select(DocumentLink).where(
                DocumentLink.document_id == document.id, DocumentLink.claim_id == task.claim_id
            )
        ).first()
        if linked is None:
            session.add(DocumentLink(document_id=document.id or 0, claim_id=task.claim_id))
        append_audit_event(
            session,
            actor=username,
            action="document.attached",
            entity_type="document",
            entity_id=document.id,
            claim_id=task.claim_id,
            details={"kind": kind, "size": stored.size, "task_id": task_id},
        )
        return document.id or 0
