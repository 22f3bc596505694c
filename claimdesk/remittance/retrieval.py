"""Pick up 835 files from every payer mailbox and post them (``remittance_service``).

The gateway stores each file before it is handed over, so a crash after pickup
loses nothing: the same file offered again is recognised by content (the
remittance row is unique on payer, trace number and content hash) and posts
nothing twice; the same trace number with different content is an exception
task. A file is posted as the payer that sent it (GS02, else ISA06); one that
cannot be read is kept as an exception of the mailbox's payer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.clock import today
from claimdesk.db import session_scope
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for, payer_mailboxes
from claimdesk.remittance.posting import post_remittance
from claimdesk.settings import Settings
from claimdesk.x12 import SegmentReader, X12Error
from models import Payer


@dataclass
class RemittanceRun:
    files: int = 0
    posted: int = 0
    duplicates: int = 0
    exceptions: int = 0
    payer_errors: int = 0
    denial_ids: list[int] = field(default_factory=list)
    review_task_ids: list[int] = field(default_factory=list)
    secondary_claim_ids: list[int] = field(default_factory=list)


def retrieve_remittances(engine: Engine, settings: Settings) -> RemittanceRun:
    """Retrieve and post every waiting 835 of every payer mailbox."""
    run = RemittanceRun()
    day = today(settings)  # the denials' review tasks opened at posting are priced on it
    with Session(engine) as session:
        payers = session.exec(select(Payer).order_by(col(Payer.id))).all()
    edi_ids = {p.payer_id.upper(): p.id for p in payers if p.id is not None}
    for mailbox in payer_mailboxes(payers, settings):
        client = client_for(mailbox, settings=settings, engine=engine)
        try:
            files = client.retrieve("835")
        except PayerError:
            run.payer_errors += 1
            continue
        finally:
            client.close()
        for retrieved in files:
            run.files += 1
            payer_id = sender_payer_id(retrieved.payload, edi_ids) or mailbox.id
            assert payer_id is not None
            post_file(engine, retrieved.payload, payer_id, retrieved.document_id, run, day)
    return run


def sender_payer_id(data: bytes, edi_ids: dict[str, int]) -> int | None:
    """The claimdesk payer that sent an 835 file: its first GS02, else ISA06.

    Reads the envelope segments only; the sets are parsed once, when the file is posted.
    """
    senders: list[str] = []
    try:
        for _, elements in SegmentReader(data):
            if elements[0] == "ISA" and len(elements) > 6:
                senders.append(elements[6])
            elif elements[0] == "GS" and len(elements) > 2:
                senders.insert(0, elements[2])
                break
    except X12Error:
        pass  # an unreadable file is kept as the mailbox payer's exception
    for sender in senders:
        payer_id = edi_ids.get(sender.strip().upper())
        if payer_id is not None:
            return payer_id
    return None


def post_file(
    engine: Engine,
    data: bytes,
    payer_id: int,
    document_id: int | None,
    run: RemittanceRun,
    day: date | None = None,
) -> None:
    """Post one file in one transaction and add what happened to ``run``."""
    with session_scope(engine) as session:
        report = post_remittance(
            session,
            document_bytes_or_parsed=data,
            payer_id=payer_id,
            document_id=document_id,
            today=day,
        )
    for outcome in report.outcomes:
        if outcome == "posted":
            run.posted += 1
        elif outcome == "duplicate":
            run.duplicates += 1
        else:
            run.exceptions += 1
    run.denial_ids.extend(report.denial_ids)
    run.review_task_ids.extend(report.task_ids)
    run.secondary_claim_ids.extend(report.secondary_claim_ids)
