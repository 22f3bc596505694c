"""How the Workflows II tests work each review task: what a careful specialist would do."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.claims.cob import next_coverage
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.stored_documents import store_document
from models import Claim, ReviewTask

# Denials the payer overturns when the records come with the appeal (the simulator's rule).
APPEAL_WITH_RECORDS = {"50", "197", "16"}


def attach_records(engine: Engine, store: DocumentStore, claim_id: int) -> int:
    """The visit notes a specialist uploads to support an appeal (a document, never in Prefect)."""
    with session_scope(engine) as session:
        return store_document(
            session,
            store,
            f"%PDF-1.4 visit notes for claim {claim_id}\n".encode(),
            kind="attachment",
            content_type="application/pdf",
            claim_id=claim_id,
        )


def decide(task: ReviewTask, engine: Engine, store: DocumentStore) -> dict[str, Any]:
    context = task.context
    if task.kind == "denial":
        reason, group = context["reason_code"], context["group_code"]
        if context["appealable"] and reason in APPEAL_WITH_RECORDS:
            records = attach_records(engine, store, task.claim_id or 0)
            return {
                "action": "appeal",
                "argument": "The enclosed visit notes document the service and its necessity.",
                "document_ids": [records],
            }
        with Session(engine) as session:
            claim = session.get(Claim, task.claim_id)
            assert claim is not None
            secondary = next_coverage(session, claim) is not None
        if context["suggested_action"] == "bill_secondary" and secondary:
            return {"action": "bill_secondary"}
        if group == "PR":
            return {"action": "bill_patient"}
        return {"action": "write_off", "reason": f"{group}-{reason}: not recoverable"}
    if task.kind == "write_off_approval":
        return {"action": "approve"}
    if task.kind == "appeal_send":
        return {"action": "send_electronic" if context["electronic"] else "sent_mail"}
    if task.kind == "remittance":
        return {"action": "resolved", "reason": "checked against the payer's portal"}
    if task.kind == "status":
        return {"action": "keep_waiting", "reason": "payer says in process", "follow_up_days": 7}
    if task.kind == "scrub":
        return {"action": "override", "reason": "reviewed: payer accepts this"}
    raise AssertionError(f"no decision for a {task.kind} task")
