"""One 837 batch, built and checked claim by claim: a bad claim never holds up the others.

Each claim's wire data is built on its own (``build_wire_claims``); the batch is
written and put through the TR3 check (``claimdesk.x12.validate``: pyx12 for the
837). A claim that cannot be built, or fails the check when written alone, moves
to ``scrub_hold`` with its own ``scrub`` review task naming the field and the
rule (codes and field names only: no PHI reaches a task, an audit event or a
log); the rest of the batch goes out. The fields transliterated on the way are
recorded in each claim's timeline (``claim.transliterated``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_audit import record_transliterated
from claimdesk.claims.wire_data import WireClaim, build_wire_claims, claim_batch
from claimdesk.claims.wire_text import WireDataError, WireText
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from claimdesk.submission.outbox import ControlNumbers, build_submission
from claimdesk.x12 import X12Error, write_837
from claimdesk.x12.claim_data import ClaimBatch837
from claimdesk.x12.claim_data import ControlNumbers as X12ControlNumbers
from claimdesk.x12.validate import ValidationIssue, validate
from models import Claim, append_audit_event

ACTOR = "system:submission"
BUILD_RULE = "X12-BUILD"  # the claim's rows cannot make a valid 837 claim
TR3_RULE = "X12-TR3"  # the written claim fails the TR3 check
# Written first with these, and again with the outbox's own numbers once they are allocated.
_PLACEHOLDER = X12ControlNumbers(interchange=1, group=1, transaction_set=1)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """Why one claim stays out of its batch: a stage, a field (path or element), a rule code."""

    stage: str  # "build" or "tr3"
    field: str
    rule: str


@dataclass
class BatchBuild:
    submission_ids: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    review_task_ids: list[int] = field(default_factory=list)


def build_batch(
    engine: Engine,
    settings: Settings,
    store: DocumentStore,
    *,
    payer_id: int,
    claims: list[tuple[int, int]],
) -> BatchBuild:
    """Build, check and commit the interchange(s) for one batch of queued claim versions."""
    outcome = BatchBuild()
    wanted = dict(claims)
    envelope_text = WireText()
    # Read everything before the outbox opens its transaction: on SQLite a second
    # session inside it would wait on the outbox's own write lock.
    with Session(engine) as session:
        built, failed = build_wire_claims(session, payer_id=payer_id, claim_ids=list(wanted))
        problems = {
            claim_id: Problem("build", error.field, error.rule) for claim_id, error in failed
        }
        # A claim corrected since it was queued waits for the next run (its new version).
        ready = [w for w in built if wanted.get(w.claim_id) == w.version]
        batch = None
        try:
            if ready:
                batch = claim_batch(
                    session,
                    settings=settings,
                    payer_id=payer_id,
                    claims=ready,
                    control=_PLACEHOLDER,
                    reference_id="PENDING",
                    text=envelope_text,
                )
        except WireDataError as error:  # the practice's or payer's own rows (1000A/B)
            problems.update({w.claim_id: Problem("build", error.field, error.rule) for w in ready})
    checked, groups = _tr3_check(batch, ready) if batch is not None else ({}, [])
    problems.update(checked)
    for claim_id, problem in sorted(problems.items()):
        task_id = _hold(engine, claim_id, wanted[claim_id], problem)
        outcome.held.append(claim_id)
        if task_id is not None:
            outcome.review_task_ids.append(task_id)
    if batch is not None:
        for group in groups:
            outcome.submission_ids.append(
                _commit(engine, store, payer_id, batch, group, envelope_text)
            )
    return outcome


def _tr3_check(
    batch: ClaimBatch837, claims: list[WireClaim]
) -> tuple[dict[int, Problem], list[list[WireClaim]]]:
    """(claims that fail, groups to send): the whole batch when it passes, else claim by claim."""
    if not _issues(batch):
        return {}, [claims]
    failing: dict[int, Problem] = {}
    passing: list[WireClaim] = []
    for claim in claims:
        issues = _issues(batch.model_copy(update={"claims": (claim.data,)}))
        if issues:
            failing[claim.claim_id] = _tr3_problem(issues[0])
        else:
            passing.append(claim)
    if not failing:
        # No claim fails alone, only together (every delimiter used, say): each goes alone.
        return {}, [[claim] for claim in passing]
    if passing and _issues(batch.model_copy(update={"claims": tuple(c.data for c in passing)})):
        return failing, [[claim] for claim in passing]
    return failing, [passing] if passing else []


def _issues(batch: ClaimBatch837) -> list[ValidationIssue]:
    try:
        return validate(write_837(batch))
    except X12Error as exc:  # the writer could not even make the interchange
        return [ValidationIssue(source="tr3", message=type(exc).__name__, segment_id="ISA")]


def _tr3_problem(issue: ValidationIssue) -> Problem:
    # The element (NM103) or segment, and pyx12's error code: never its message, which
    # may quote the value.
    where = issue.element or issue.segment_id or "interchange"
    return Problem("tr3", where, f"{issue.source}:{issue.code or 'invalid'}")


def _hold(engine: Engine, claim_id: int, version: int, problem: Problem) -> int | None:
    """Move the claim to scrub_hold with a scrub task naming the problem; the new task's id."""
    reason = {"stage": problem.stage, "field": problem.field, "rule": problem.rule}
    with session_scope(engine) as session:
        claim = session.get(Claim, claim_id)
        if claim is None or claim.status != "queued" or claim.version != version:
            return None  # someone moved or corrected it meanwhile
        append_audit_event(
            session,
            actor=ACTOR,
            action="claim.not_built",
            entity_type="claim",
            entity_id=claim_id,
            claim_id=claim_id,
            details=reason,
        )
        set_claim_status(
            session=session,
            claim=claim,
            status="scrub_hold",
            actor=ACTOR,
            reason=f"{problem.stage}_failed",
        )
        rule_id = BUILD_RULE if problem.stage == "build" else TR3_RULE
        task = ensure_review_task(
            session=session,
            kind="scrub",
            claim_id=claim_id,
            claim_version=version,
            payer_id=claim.payer_id,
            priority=55,
            context={
                **reason,
                "errors": [rule_id],
                "warnings": [],
                "findings": [{"rule_id": rule_id, "field": problem.field, "message": problem.rule}],
            },
        )
        log.warning("claim %s held: %s %s %s", claim_id, problem.stage, problem.field, problem.rule)
        if task.status == "open" and task.flow_run_id is None and task.id is not None:
            return task.id
    return None


def _commit(
    engine: Engine,
    store: DocumentStore,
    payer_id: int,
    batch: ClaimBatch837,
    claims: list[WireClaim],
    envelope_text: WireText,
) -> int:
    group = batch.model_copy(update={"claims": tuple(c.data for c in claims)})

    def write(numbers: ControlNumbers) -> bytes:
        control = X12ControlNumbers(
            interchange=int(numbers.isa13),
            group=int(numbers.gs06),
            transaction_set=int(numbers.st02),
        )
        return write_837(
            group.model_copy(update={"control": control, "reference_id": f"B{numbers.isa13}"})
        )

    submission_id = build_submission(
        engine,
        store,
        payer_id=payer_id,
        claims=[(c.claim_id, c.version) for c in claims],
        write_837=write,
    )
    with session_scope(engine) as session:
        for claim in claims:
            record_transliterated(
                session,
                actor=ACTOR,
                transaction=f"837{batch.kind}",
                fields=[*claim.transliterated, *envelope_text.transliterated],
                claims=[(claim.claim_id, claim.version)],
                extra={"submission_id": submission_id},
            )
    return submission_id
