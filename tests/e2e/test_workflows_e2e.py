"""Workflows I end to end: real Prefect server and worker, real payer simulator.

30 demo claims are seeded to hit every review kind (eligibility: terminated coverage
and an unknown member; scrub: conflicting modifiers and an unbillable diagnosis;
rejection: a 277CA that rejects an unknown member). The test runs eligibility and
submission, resolves each review task through ``resolve_review``, and sees every
claim reach accepted or a deliberate end state, each claim version sent once, and
no patient data in Prefect's database.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from claimdesk.cli._bootstrap import bootstrap_stack
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.migrate import upgrade_database
from claimdesk.stack import Stack, prefect_database_for
from claimdesk.workqueue.resolve import resolve_review
from models import Claim, ClaimLine, Coverage, Diagnosis, Patient, ReviewTask, User
from tasks.resume import resume_with_reference, start_appeal_run
from tests.e2e.phi_scan import database_text, files_text, find_phi, phi_patterns
from tests.e2e.stack_fixtures import (
    decisions_applied,
    flow_run_history,
    flow_run_state,
    flow_runs_of,
    free_ports,
    open_tasks,
    run_flow,
    sim_claims,
    suspended,
    wait_until,
)

pytestmark = pytest.mark.slow
UNKNOWN_MEMBER = "ZZ9999999999"
FINAL = {"accepted", "voided", "billed_patient", "eligibility_hold"}


class Seeded:
    """Which claims were set up to hit which review kind."""

    def __init__(self) -> None:
        self.terminated: set[int] = set()
        self.unknown_member: dict[int, str] = {}  # coverage id → its real member id
        self.scrub_modifiers: int = 0
        self.scrub_diagnosis: int = 0
        self.rejected: set[int] = set()


def _patients_with_claims(session: Session) -> list[tuple[Coverage, list[Claim]]]:
    groups: dict[int, list[Claim]] = {}
    for claim in session.exec(select(Claim).order_by(col(Claim.id))).all():
        groups.setdefault(claim.coverage_id, []).append(claim)
    # Fewest claims first: each seeded problem then costs as few review runs as possible.
    ordered = sorted(groups.items(), key=lambda item: (len(item[1]), item[0]))
    return [(session.get(Coverage, cov), claims) for cov, claims in ordered]  # type: ignore[misc]


def seed_before_start(session: Session, today: date, seeded: Seeded) -> None:
    # One claim per patient, mostly: each seeded problem then costs one review run.
    generate_demo_practice(session, claims=30, seed=42, today=today, patients=30)
    for name, role in (("sam", "specialist"), ("lee", "lead")):
        session.add(User(username=name, role=role, password_hash="unused-in-this-test"))
    groups = _patients_with_claims(session)
    # Everyone active except the coverages we end on purpose (the generator ends some too).
    for coverage, _claims in groups:
        coverage.effective_to = None
        session.add(coverage)
    coverage, claims = groups[0]
    coverage.effective_to = today - timedelta(days=400)  # the simulator reports it terminated
    session.add(coverage)
    seeded.terminated = {c.id or 0 for c in claims}
    # Scrub errors: conflicting modifiers (26 with TC) and an unbillable diagnosis (E11).
    line = session.exec(select(ClaimLine).where(ClaimLine.claim_id == groups[2][1][0].id)).first()
    assert line is not None
    line.modifiers = ["26", "TC"]
    session.add(line)
    seeded.scrub_modifiers = line.claim_id
    diagnosis = session.exec(
        select(Diagnosis).where(Diagnosis.claim_id == groups[3][1][0].id)
    ).first()
    assert diagnosis is not None
    diagnosis.code = "E11"
    session.add(diagnosis)
    seeded.scrub_diagnosis = diagnosis.claim_id


def seed_after_start(session: Session, seeded: Seeded) -> None:
    """Changes the simulator's roster does not know about (it was written at start)."""
    groups = _patients_with_claims(session)
    coverage, claims = groups[1]
    seeded.unknown_member[coverage.id or 0] = coverage.member_id
    coverage.member_id = UNKNOWN_MEMBER
    session.add(coverage)
    # Verified recently, so no 270 is sent: the 837 goes out and the 277CA rejects it.
    coverage, claims = groups[4]
    coverage.member_id = UNKNOWN_MEMBER + "1"
    coverage.verified_at = datetime.now(UTC)
    session.add(coverage)
    seeded.rejected = {c.id or 0 for c in claims}


def decide(task: ReviewTask, seeded: Seeded, engine: Engine) -> dict[str, Any]:
    if task.kind == "eligibility":
        with Session(engine) as session:
            claim = session.get(Claim, task.claim_id)
            assert claim is not None
            coverage = session.get(Coverage, claim.coverage_id)
            assert coverage is not None
            real = seeded.unknown_member.get(coverage.id or 0)
            payer = coverage.payer_id
            from models import Payer

            payer_edi = session.get(Payer, payer).payer_id  # type: ignore[union-attr]
        if real is not None:
            return {
                "action": "corrected_coverage",
                "coverage": {
                    "payer_id": payer_edi,
                    "member_id": real,
                    "effective_from": "2020-01-01",
                },
            }
        return {"action": "self_pay", "reason": "coverage ended; patient pays"}
    if task.kind == "scrub":
        if task.claim_id == seeded.scrub_modifiers:
            return {
                "action": "corrected_fields",
                "corrections": {"lines": [{"line_number": 1, "modifiers": []}]},
            }
        if task.claim_id == seeded.scrub_diagnosis:
            with Session(engine) as session:
                codes = session.exec(
                    select(Diagnosis.code)
                    .where(Diagnosis.claim_id == task.claim_id)
                    .order_by(col(Diagnosis.position))
                ).all()
            fixed = ["E119" if code == "E11" else code for code in codes]
            return {"action": "corrected_fields", "corrections": {"diagnoses": fixed}}
        return {"action": "override", "reason": "reviewed: payer accepts this"}
    if task.kind == "rejection":
        return {"action": "cancel", "reason": "member unknown to payer; billing office follows up"}
    if task.kind == "visit_eligibility":
        # A demo appointment of a patient whose coverage the seeds broke: the front desk's.
        return {"action": "patient_contacted", "reason": "asked to bring the new card"}
    raise AssertionError(f"unexpected review kind {task.kind}")


# The whole stack once per run on PostgreSQL, as a busy office runs it; the same journey
# with the app database on SQLite (the embedded default) runs under `make soak`.
STACK_BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.soak),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=STACK_BACKENDS)
def e2e(
    request: pytest.FixtureRequest, databases, tmp_path_factory
) -> Iterator[tuple[Stack, Engine, Seeded]]:  # type: ignore[no-untyped-def]
    settings = databases.settings(request.param, tmp_path_factory.mktemp(f"e2e-{request.param}"))
    engine = make_engine(settings)
    upgrade_database(engine)
    seeded = Seeded()
    today = datetime.now(UTC).date()
    with session_scope(engine) as session:
        seed_before_start(session, today, seeded)
    prefect_db = None
    if request.param == "postgresql":
        prefect_db = prefect_database_for(settings.effective_database_url)
        databases.pg_databases.append(make_url(prefect_db).database)  # dropped at session end
    stack = Stack(
        settings, free_ports(), prefect_db, with_ui=False, worker_limit=6, clock_source="payer_sim"
    )
    saved = {
        k: os.environ.get(k)
        for k in (
            "PREFECT_API_URL",
            "CLAIMDESK_PAYER_SIM_URL",
            "CLAIMDESK_CLOCK_SOURCE",
            "CLAIMDESK_DATA_DIR",
        )
    }
    try:
        bootstrap_stack(stack, demo=False, echo=lambda line: None, schedules="off")
        # This test process is a claimdesk client too (resolve_review, the clock).
        os.environ["CLAIMDESK_PAYER_SIM_URL"] = f"{stack.payer_url}/core"
        with session_scope(engine) as session:
            seed_after_start(session, seeded)
        from prefect.settings import PREFECT_API_URL, temporary_settings

        # Prefect caches its settings per process: point this one at this stack.
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield stack, engine, seeded
    finally:
        stack.stop()
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _resolve_all(engine: Engine, seeded: Seeded) -> int:
    tasks = open_tasks(engine)
    if not tasks:
        return 0
    wait_until(lambda: suspended(engine, tasks), timeout=240, what="review runs to suspend")
    for task in tasks:
        outcome = resolve_review(
            engine,
            task_id=task.id or 0,
            username="sam",
            decision=decide(task, seeded, engine),
            resumer=resume_with_reference,
        )
        assert outcome.resumed, outcome.message
    wait_until(lambda: decisions_applied(engine), timeout=240, what="decisions to be applied")
    return len(tasks)


@pytest.mark.timeout(900)
def test_workflows_take_claims_to_accepted_or_a_deliberate_end(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    stack, engine, seeded = e2e
    kinds_seen: set[str] = set()
    statuses: dict[int | None, str] = {}
    for _round in range(4):
        run_flow("eligibility/eligibility")
        run_flow("submission/submission")
        run_flow("acknowledgements/acknowledgements")
        kinds_seen |= {t.kind for t in open_tasks(engine)}
        _resolve_all(engine, seeded)
        with Session(engine) as session:
            statuses = {c.id: c.status for c in session.exec(select(Claim)).all()}
        if set(statuses.values()) <= FINAL and not open_tasks(engine):
            break
    assert kinds_seen >= {"eligibility", "scrub", "rejection"}
    assert set(statuses.values()) <= FINAL, statuses
    assert all(statuses[c] == "billed_patient" for c in seeded.terminated)
    assert all(statuses[c] == "voided" for c in seeded.rejected)
    assert statuses[seeded.scrub_modifiers] == "accepted"
    assert statuses[seeded.scrub_diagnosis] == "accepted"
    with Session(engine) as session:
        unknown_claims = session.exec(
            select(Claim.id, Claim.status).where(
                col(Claim.coverage_id).in_(list(seeded.unknown_member))
            )
        ).all()
    assert unknown_claims and all(status == "accepted" for _, status in unknown_claims)

    # The simulator received each claim version in exactly one interchange.
    received = sim_claims(stack)
    assert received
    assert all(len(entry["interchanges"]) == 1 for entry in received), received
    accepted = {c for c, s in statuses.items() if s == "accepted"}
    assert {int(e["claim_ref"].rsplit("-v", 1)[0]) for e in received} >= accepted


# Where a claim may rest once the payer answered and people worked it (Workflows II).
SETTLED = FINAL - {"accepted"} | {
    "paid",
    "partially_paid",
    "written_off",
    "billed_secondary",
    "appealed",
}


def _runs_settled() -> bool:
    """No flow run is scheduled, pending or running: each one finished or waits for a person."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    busy = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]

    async def read() -> int:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=busy))
                )
            )
            return len(runs)

    return asyncio.run(read()) == 0


def _work_the_queue(engine: Engine, store: Any) -> set[str]:
    """Resolve every task until no run moves any more; the kinds worked."""
    from tests.workflows.decide import decide

    kinds: set[str] = set()
    while True:
        wait_until(_runs_settled, timeout=240, what="flow runs to finish or suspend", every=2)
        tasks = open_tasks(engine)
        if not tasks:
            return kinds
        # A denial's first review has no run until it is decided; every other task's does.
        waited = [t for t in tasks if not (t.kind == "denial" and t.flow_run_id is None)]
        wait_until(
            lambda tasks=waited: suspended(engine, tasks),  # type: ignore[misc]
            timeout=240,
            what="review runs to suspend",
        )
        for task in tasks:
            kinds.add(task.kind)
            outcome = resolve_review(
                engine,
                task_id=task.id or 0,
                username="lee" if task.kind == "write_off_approval" else "sam",
                decision=decide(task, engine, store),
                resumer=resume_with_reference,
                starter=start_appeal_run,
            )
            assert outcome.resumed, outcome.message
        wait_until(lambda: decisions_applied(engine), timeout=240, what="decisions to apply")


@pytest.mark.timeout(900)
def test_workflows_ii_follow_claims_until_paid_written_off_billed_or_appealed(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    """Status polling, 835 posting, denials and appeals on the stack, the clock advanced."""
    from claimdesk.claims.ledger import check_all_ledger_identities
    from claimdesk.documents import make_document_store
    from models import Appeal, Denial, StatusCheck

    stack, engine, _seeded = e2e
    if not stack.prefect_database_url:
        pytest.skip("run once, on the PostgreSQL-backed stack a busy office runs")
    store = make_document_store(stack.settings)
    kinds: set[str] = set()
    # Six simulated days a round: adjudication (2 days) and an appeal's decision (5 days)
    # fall due within one, so three rounds settle: first 835s and appeals sent; appeal
    # outcomes, re-adjudications and secondaries sent; secondaries' 835s.
    for _round in range(4):
        httpx.post(f"{stack.payer_url}/admin/clock/advance", json={"days": 6}, timeout=10)
        run_flow("submission/submission")  # secondaries and corrected claims
        run_flow("acknowledgements/acknowledgements")
        run_flow("poll-payer-status/poll-payer-status")
        run_flow("remittances/remittances")
        kinds |= _work_the_queue(engine, store)
        with Session(engine) as session:
            statuses = {c.id: c.status for c in session.exec(select(Claim)).all()}
            electronic_pending = session.exec(
                select(Appeal).where(Appeal.outcome == "pending", Appeal.channel == "electronic")
            ).all()
        if set(statuses.values()) <= SETTLED and not electronic_pending:
            break
    assert set(statuses.values()) <= SETTLED, statuses
    assert kinds >= {"denial", "appeal_send"}, kinds
    run_flow("sweep-review-deadlines/sweep-review-deadlines")  # fails unless it completes
    with Session(engine) as session:
        assert check_all_ledger_identities(session) == []
        assert session.exec(select(StatusCheck)).first() is not None
        denials = session.exec(select(Denial)).all()
        appeals = session.exec(select(Appeal)).all()
    assert {d.status for d in denials} <= {
        "appealed",
        "written_off",
        "billed_patient",
        "billed_secondary",
        "closed",
        "corrected",
    }, [(d.reason_code, d.status) for d in denials]
    assert any(a.outcome == "overturned" and a.payer_appeal_id for a in appeals), appeals
    # Every appeal run walked its denial to the end: none failed, none still running.
    assert all(d.status != "open" for d in denials)


def test_no_patient_data_in_prefect(e2e: tuple[Stack, Engine, Seeded]) -> None:
    stack, engine, _seeded = e2e
    with Session(engine) as session:
        patients = session.exec(select(Patient)).all()
        coverages = session.exec(select(Coverage)).all()
    names = [p.first_name for p in patients] + [p.last_name for p in patients]
    names += [c.subscriber_last_name for c in coverages if c.subscriber_last_name]
    members = [c.member_id for c in coverages]
    births = [p.birth_date for p in patients] + [
        c.subscriber_birth_date for c in coverages if c.subscriber_birth_date
    ]
    pattern = phi_patterns(names, members, births)
    assert (
        find_phi(database_text(stack.env()["PREFECT_API_DATABASE_CONNECTION_URL"]), pattern) == []
    )
    assert find_phi(files_text(stack.prefect_home), pattern) == []


def _claim_waiting_for_scrub_review(engine: Engine) -> int:
    """A new claim on hold for scrubbing, with its review task (no run yet)."""
    from claimdesk.claims.moves import set_claim_status
    from claimdesk.review.tasks import ensure_review_task
    from tests.factories import make_claim

    with session_scope(engine) as session:
        claim = make_claim(session)
        set_claim_status(session=session, claim=claim, status="ready", actor="test")
        set_claim_status(session=session, claim=claim, status="scrub_hold", actor="test")
        task = ensure_review_task(
            session=session, kind="scrub", claim_id=claim.id, claim_version=claim.version
        )
        assert task.id is not None
        return task.id


def _start_review_run(task_id: int) -> str:
    import asyncio

    from flows._review import start_review_runs

    return asyncio.run(start_review_runs([task_id]))[0]


def _paused_under(run_id: str, key_suffix: str) -> bool:
    import asyncio
    from uuid import UUID

    from prefect.client.orchestration import get_client

    async def read() -> bool:
        async with get_client() as client:
            state = (await client.read_flow_run(UUID(run_id))).state
            return bool(
                state
                and state.is_paused()
                and state.state_details.pause_key
                and state.state_details.pause_key.endswith(key_suffix)
            )

    return asyncio.run(read())


def test_made_up_reference_from_prefect_is_refused_and_audited(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    from models import AuditEvent

    _stack, engine, _seeded = e2e
    task_id = _claim_waiting_for_scrub_review(engine)
    run_id = _start_review_run(task_id)
    wait_until(lambda: _paused_under(run_id, "-1"), timeout=180, what="the review run to suspend")
    # What someone typing into Prefect's UI would do: a reference claimdesk never issued.
    resume_flow_run(UUID(run_id), run_input={"decision_id": 987654})
    wait_until(lambda: _paused_under(run_id, "-2"), timeout=180, what="the run to suspend again")
    with Session(engine) as session:
        refused = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "task.resume_refused", AuditEvent.entity_id == str(task_id)
            )
        ).all()
        task = session.get(ReviewTask, task_id)
    assert len(refused) == 1 and refused[0].details["decision_id"] == 987654
    assert task is not None and task.status == "open" and task.decision_id is None


def test_decision_recorded_while_prefect_is_down_is_applied_once_after(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    from models import AuditEvent, ReviewDecision

    stack, engine, _seeded = e2e
    if not stack.prefect_database_url:
        pytest.skip("checked on the PostgreSQL-backed Prefect server a busy office runs")
    task_id = _claim_waiting_for_scrub_review(engine)
    run_id = _start_review_run(task_id)
    wait_until(lambda: _paused_under(run_id, "-1"), timeout=180, what="the review run to suspend")
    stack.kill("prefect-server")
    outcome = resolve_review(
        engine,
        task_id=task_id,
        username="sam",
        decision={"action": "override", "reason": "checked with payer"},
        resumer=resume_with_reference,
    )
    assert not outcome.resumed and "deferred" in outcome.message
    stack.start_prefect()
    run_flow("reconcile-reviews/reconcile-reviews")
    wait_until(lambda: decisions_applied(engine), timeout=180, what="the decision to be applied")
    run_flow("reconcile-reviews/reconcile-reviews")  # a second pass changes nothing
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None
        claim = session.get(Claim, task.claim_id)
        decision = session.get(ReviewDecision, outcome.decision_id)
        applied = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "decision.applied", AuditEvent.entity_id == str(task_id)
            )
        ).all()
    assert claim is not None and claim.status == "queued"
    assert decision is not None and decision.applied_at is not None
    assert len(applied) == 1


def _appeal_runs_of(denial_id: int) -> list[Any]:
    return [r for r in flow_runs_of("appeal") if r.parameters.get("denial_id") == denial_id]


def _denial_status(engine: Engine, denial_id: int) -> str:
    from models import Denial

    with Session(engine) as session:
        denial = session.get(Denial, denial_id)
        assert denial is not None
        return denial.status


def _applied_events(engine: Engine, task_id: int) -> int:
    from models import AuditEvent

    with Session(engine) as session:
        return len(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "decision.applied", AuditEvent.entity_id == str(task_id)
                )
            ).all()
        )


WRITE_OFF = {"action": "write_off", "reason": "CO-50: not recoverable"}


def test_a_posted_denial_waits_without_a_run_and_its_decision_starts_one(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    """No run per denial at posting, none from the reconciler; the decision starts it."""
    from tests.denials.test_denial_run_on_decision import posted_denial

    _stack, engine, _seeded = e2e
    denial_id, task_id = posted_denial(engine)
    assert task_id in {t.id for t in open_tasks(engine)}  # in the queue, for a person
    # The reconciler's pass (restart_lost_runs) gives an undecided denial's task no run.
    run_flow("reconcile-reviews/reconcile-reviews")
    assert _appeal_runs_of(denial_id) == []
    outcome = resolve_review(
        engine,
        task_id=task_id,
        username="sam",
        decision=WRITE_OFF,
        resumer=resume_with_reference,
        starter=start_appeal_run,
    )
    assert outcome.resumed and "started" in outcome.message, outcome.message
    wait_until(
        lambda: _denial_status(engine, denial_id) == "written_off",
        timeout=180,
        what="the started appeal run to write the denial off",
    )
    [run] = _appeal_runs_of(denial_id)
    wait_until(lambda: flow_run_state(str(run.id)) == "COMPLETED", timeout=60, what="the run")
    # It never paused: the decision was there when it started.
    assert "Suspended" not in flow_run_history(str(run.id))
    assert _applied_events(engine, task_id) == 1


def test_a_denial_decided_while_prefect_is_down_gets_one_run_from_the_reconciler(
    e2e: tuple[Stack, Engine, Seeded],
) -> None:
    from tests.denials.test_denial_run_on_decision import posted_denial

    stack, engine, _seeded = e2e
    if not stack.prefect_database_url:
        pytest.skip("checked on the PostgreSQL-backed Prefect server a busy office runs")
    denial_id, task_id = posted_denial(engine)
    stack.kill("prefect-server")
    outcome = resolve_review(
        engine,
        task_id=task_id,
        username="sam",
        decision=WRITE_OFF,
        resumer=resume_with_reference,
        starter=start_appeal_run,
    )
    assert not outcome.resumed and "run start deferred" in outcome.message, outcome.message
    stack.start_prefect()
    run_flow("reconcile-reviews/reconcile-reviews")
    run_flow("reconcile-reviews/reconcile-reviews")  # a second pass starts nothing more
    wait_until(
        lambda: _denial_status(engine, denial_id) == "written_off",
        timeout=180,
        what="the reconciler's appeal run to write the denial off",
    )
    run_flow("sweep-review-deadlines/sweep-review-deadlines")  # nor does the sweep
    assert len(_appeal_runs_of(denial_id)) == 1
    assert _applied_events(engine, task_id) == 1
