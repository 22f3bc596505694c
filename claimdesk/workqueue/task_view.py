"""One task with its claim's whole story, for the task page (full PHI, so every read is audited).

Also the task page's actions other than claiming: comments, attachments for
appeals, document downloads, and submitting a decision through ``resolve_review``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.claims.ledger import ClaimBalance, claim_balance
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.workqueue.caller import active_caller
from claimdesk.workqueue.necessary import require_claim_access, require_task_access
from claimdesk.workqueue.reasons import Reason, why_in_queue
from claimdesk.workqueue.task_story import (
    CodeLine,
    TimelineEntry,
    probe_mask,
    probes_found,
    read_claim_story,
)
from models import (
    Claim,
    ClaimLine,
    Comment,
    Coverage,
    Diagnosis,
    Document,
    DocumentLink,
    EligibilityCheck,
    Patient,
    Payer,
    ReviewDecision,
    ReviewTask,
    User,
    append_audit_event,
)
from models.audit import append_audit_record

__all__ = ["CodeLine", "TaskView", "TimelineEntry", "read_task_view"]

# Attachments bigger than this belong in the payer's portal, not an X12 PWK: refuse early.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_KINDS = ("attachment", "appeal_letter")


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


_ASSIGNEE = aliased(User)
_DECIDER = aliased(User)


def _view_query() -> Any:
    """The task, its claim, patient, coverage, payer and assignee, and what else to read."""
    return (
        select(  # type: ignore[call-overload]
            ReviewTask,
            Claim,
            Patient,
            Coverage,
            Payer,
            col(_ASSIGNEE.username),
            probe_mask(),
        )
        .outerjoin(Claim, col(Claim.id) == col(ReviewTask.claim_id))
        .outerjoin(Patient, col(Patient.id) == col(Claim.patient_id))
        .outerjoin(Coverage, col(Coverage.id) == col(Claim.coverage_id))
        .outerjoin(
            Payer, col(Payer.id) == func.coalesce(col(Claim.payer_id), col(ReviewTask.payer_id))
        )
        .outerjoin(_ASSIGNEE, col(_ASSIGNEE.id) == col(ReviewTask.assignee_id))
        .where(col(ReviewTask.id) == bindparam("task_id"))
    )


# Built once: its cache key and compiled form are reused on every task opened.
_VIEW = _view_query()


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
    The user, then one join for the task and its claim's people (with which of the
    claim's tables hold rows), then only those tables, the balance and the audit event.
    """
    with session_scope(engine) as session:
        user = active_caller(session, username)
        require(user, "claim.view_phi", session=session)
        found = session.exec(_VIEW, params={"task_id": task_id}).first()
        if found is None:
            raise NotFound(f"no review task {task_id}")
        task, claim, patient, coverage, payer, assignee, _mask = found
        require_task_access(session, user, task, reason=reason)
        view = TaskView(
            task=task,
            claim=claim,
            patient=patient,
            coverage=coverage,
            payer=payer,
            assignee=assignee,
        )
        if claim is not None:
            has = probes_found(found[6] or 0)
            story = read_claim_story(session, task, claim, has)
            view.lines, view.diagnoses, view.eligibility = (
                story.lines,
                story.diagnoses,
                story.eligibility,
            )
            view.payer_answer, view.documents = story.payer_answer, story.documents
            view.comments, view.timeline = story.comments, story.timeline
            view.balance = claim_balance(session, claim.id or 0)
        ui = prefect_ui_url(prefect_api_url)
        if ui and task.flow_run_id:
            view.flow_run_url = f"{ui}/runs/flow-run/{task.flow_run_id}"
        if task.decision_id:
            decided = session.exec(
                select(ReviewDecision, col(_DECIDER.username))
                .outerjoin(_DECIDER, col(_DECIDER.id) == col(ReviewDecision.decided_by_id))
                .where(col(ReviewDecision.id) == task.decision_id)
            ).first()
            if decided is not None:
                view.decision, view.decided_by = decided[0].decision, decided[1]
        append_audit_record(
            session,
            actor=user.username,
            action="claim.viewed",
            entity_type="review_task",
            entity_id=task_id,
            claim_id=task.claim_id,
            details={"page": "task"},
            last=True,
        )
        session.expunge_all()
    return view


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
