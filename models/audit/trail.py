"""The whole check a person runs (``claimdesk audit verify``) and the sealer's entry point.

``verify_audit_trail`` = the chain walk (``verify_audit_chain``) + the unsealed
events + the newest signed checkpoint: it catches a changed, inserted or deleted
event anywhere, and a truncated tail or an emptied table up to the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.audit.chain import (
    TABLE,
    ChainBreak,
    ChainHead,
    chain_head,
    count_unsealed,
    seal_pending,
    verify_audit_chain,
)
from models.audit.checkpoint import Checkpoint, checkpointer, make_checkpoint_store
from models.audit.keys import audit_key

if TYPE_CHECKING:
    from claimdesk.settings import Settings


@dataclass
class AuditReport:
    head: ChainHead
    unsealed: int
    checkpoint: Checkpoint | None
    breaks: list[ChainBreak] = field(default_factory=list)
    # Problems that belong to no one event: the checkpoint's.
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.problems


def verify_audit_trail(
    session: Session, key: bytes, checkpoint: Checkpoint | None, *, checkpoint_where: str = ""
) -> AuditReport:
    """Check the chain, count the unsealed events, and compare with ``checkpoint``."""
    report = AuditReport(
        head=chain_head(session),
        unsealed=count_unsealed(session),
        checkpoint=checkpoint,
        breaks=verify_audit_chain(session, key),
    )
    if checkpoint is None:
        return report
    where = f" ({checkpoint_where})" if checkpoint_where else ""
    if not checkpoint.signed_by(key):
        report.problems.append(
            f"the newest checkpoint{where} does not carry a valid signature: it was edited, "
            "or the audit key is not the one that signed it"
        )
        return report
    recorded = (
        f"the checkpoint of {checkpoint.written_at}{where} recorded {checkpoint.count} "
        f"chained events ending at event {checkpoint.head_id}"
    )
    if report.head.count == 0 and checkpoint.count > 0:
        report.problems.append(f"the audit trail holds no chained events, but {recorded}")
    elif report.head.count < checkpoint.count:
        report.problems.append(
            f"the chain ends at {report.head.count} events (event {report.head.event_id}), "
            f"but {recorded}: events were deleted from the end"
        )
    elif checkpoint.count > 0:
        at_position = session.execute(
            select(TABLE.c.id, TABLE.c.hash).where(TABLE.c.seal_seq == checkpoint.count)
        ).first()
        if at_position is None or tuple(at_position) != (
            checkpoint.head_id,
            checkpoint.head_hash,
        ):
            report.problems.append(
                f"chain position {checkpoint.count} is not the event {recorded}: "
                "the chain was rewritten up to there"
            )
    return report


def seal_and_checkpoint(engine: Engine, settings: Settings) -> int:
    """The periodic sealer (the sweep flow, ``claimdesk audit seal``): seal, checkpoint every N."""
    with Session(engine) as session:
        empty = chain_head(session).count == 0
    # A new key only for a trail nobody sealed yet: a worker host without the key must
    # not start a second chain under a key of its own.
    key = audit_key(settings, create=empty)
    store = make_checkpoint_store(settings)
    on_sealed = checkpointer(store, key, settings.audit_checkpoint_every)
    return seal_pending(engine, key, on_sealed=on_sealed)
