"""What a 277 answer does to a claim; the polling cadence. (The real simulator: tests/workflows.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from claimdesk.payer_sim._x12 import Outbound
from claimdesk.payer_sim.config import PayerConfig
from claimdesk.payer_sim.emit_277 import StatusAnswer as SimAnswer
from claimdesk.payer_sim.emit_277 import emit_277
from claimdesk.payer_sim.inquiries import StatusQuestion
from claimdesk.status_polling.service import (
    PENDING_REVIEW_DAYS,
    REMITTANCE_WAIT_DAYS,
    StatusAnswer,
    StatusRun,
    claims_due,
    read_277,
    record_answer,
)
from models import Claim, ReviewTask, StatusCheck
from tests.factories import make_claim, make_payer

TODAY = date(2026, 5, 4)
NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _answer(category: str, status: str = "20", effective: date = TODAY) -> StatusAnswer:
    return StatusAnswer(category, status, "", effective, None, "PCN77")


def _claim(session: Session, status: str = "sent") -> Claim:
    return make_claim(session, payer=make_payer(session), status=status)


def _tasks(session: Session, claim: Claim) -> list[ReviewTask]:
    return list(session.exec(select(ReviewTask).where(ReviewTask.claim_id == claim.id)).all())


def test_a_277_is_read_back_into_its_codes() -> None:
    question = StatusQuestion(trace_number="T1", patient_control_number="PCN1")
    payer = PayerConfig(payer_id="ACME", name="ACME HEALTH")
    data = emit_277(
        Outbound("ACME", "CLAIMDESK", 5, 5, datetime(2026, 5, 4, 12)),
        payer,
        "STAT1",
        [SimAnswer(question, ("R4", "294"), Decimal("120.00"), payer_claim_number="PCN77")],
        TODAY,
    )

    answer = read_277(data)

    assert answer is not None
    assert (answer.category, answer.status, answer.effective) == ("R4", "294", TODAY)
    assert answer.payer_claim_number == "PCN77"
    assert read_277(b"ISA*garbage~") is None


@pytest.mark.parametrize(
    ("start", "category", "moved_to"),
    [("sent", "A2", "accepted"), ("accepted", "P1", "pending"), ("accepted", "F1", "accepted")],
)
def test_the_claim_moves_as_the_payer_says(
    session: Session, start: str, category: str, moved_to: str
) -> None:
    claim = _claim(session, start)
    run = StatusRun()

    check = record_answer(session, claim.id or 0, _answer(category), run, now=NOW, today=TODAY)

    assert session.get(Claim, claim.id).status == moved_to  # type: ignore[union-attr]
    assert (check.category_code, check.checked_at) == (category, NOW)
    assert claim.payer_claim_number == "PCN77" and _tasks(session, claim) == []


@pytest.mark.parametrize(
    ("category", "reason"),
    [("R4", "information_requested"), ("A4", "not_on_file"), ("A7", "rejected_by_payer")],
)
def test_a_request_for_information_or_an_unknown_claim_goes_to_a_person(
    session: Session, category: str, reason: str
) -> None:
    claim = _claim(session, "accepted")
    run = StatusRun()

    record_answer(session, claim.id or 0, _answer(category, "294"), run, now=NOW, today=TODAY)
    record_answer(session, claim.id or 0, _answer(category, "294"), run, now=NOW, today=TODAY)

    [task] = _tasks(session, claim)
    assert (task.kind, task.context["reason"], task.context["category_code"]) == (
        "status",
        reason,
        category,
    )
    assert run.review_task_ids == [task.id]  # asked twice, one task


def test_pending_past_the_threshold_goes_to_a_person(session: Session) -> None:
    claim = _claim(session, "accepted")
    first = TODAY - timedelta(days=PENDING_REVIEW_DAYS + 1)
    run = StatusRun()

    record_answer(session, claim.id or 0, _answer("A2", effective=first), run, now=NOW, today=first)
    assert _tasks(session, claim) == []
    record_answer(session, claim.id or 0, _answer("P1"), run, now=NOW, today=TODAY)

    [task] = _tasks(session, claim)
    assert task.context["reason"] == "pending_too_long"


def test_a_payer_error_or_no_answer_changes_nothing_and_is_counted(session: Session) -> None:
    claim = _claim(session, "accepted")
    run = StatusRun()

    record_answer(session, claim.id or 0, _answer("E1"), run, now=NOW, today=TODAY)
    record_answer(session, claim.id or 0, None, run, now=NOW, today=TODAY)

    assert run.payer_errors == 2 and claim.status == "accepted" and _tasks(session, claim) == []
    checks = session.exec(select(StatusCheck).where(StatusCheck.claim_id == claim.id)).all()
    assert len(checks) == 2  # both kept: when we asked and what came back


def test_a_claim_is_due_again_only_after_its_payers_interval(session: Session) -> None:
    payer = make_payer(session, status_poll_interval_hours=24)
    claim = make_claim(session, payer=payer, status="accepted")
    done = make_claim(session, payer=payer, status="paid")
    assert claims_due(session, payer=payer, now=NOW) == [claim.id]
    assert done.id not in claims_due(session, payer=payer, now=NOW)

    record_answer(session, claim.id or 0, _answer("A2"), StatusRun(), now=NOW, today=TODAY)

    assert claims_due(session, payer=payer, now=NOW + timedelta(hours=23)) == []
    assert claims_due(session, payer=payer, now=NOW + timedelta(hours=24)) == [claim.id]
    payer.connectivity = {"submission_channel": "paper"}
    assert claims_due(session, payer=payer, now=NOW + timedelta(days=9)) == []


def test_after_a_person_answered_a_new_round_opens_only_once_their_follow_up_date_passed(
    session: Session,
) -> None:
    claim = _claim(session, "accepted")
    record_answer(session, claim.id or 0, _answer("R4"), StatusRun(), now=NOW, today=TODAY)
    [task] = _tasks(session, claim)
    follow_up = TODAY + timedelta(days=7)
    task.status, task.context = "resolved", {**task.context, "follow_up_on": follow_up.isoformat()}
    session.add(task)
    session.flush()

    early = StatusRun()
    before = follow_up - timedelta(days=1)
    record_answer(session, claim.id or 0, _answer("R4"), early, now=NOW, today=before)
    late = StatusRun()
    record_answer(session, claim.id or 0, _answer("R4"), late, now=NOW, today=follow_up)

    assert early.review_task_ids == [] and len(late.review_task_ids) == 1
    assert sorted(t.step for t in _tasks(session, claim)) == [1, 2]


def test_finalized_with_no_835_for_two_weeks_goes_to_a_person(session: Session) -> None:
    claim = _claim(session, "accepted")
    finalized = TODAY - timedelta(days=REMITTANCE_WAIT_DAYS + 1)

    record_answer(session, claim.id or 0, _answer("F1", "65", finalized), StatusRun(),
                  now=NOW, today=finalized)  # fmt: skip
    assert _tasks(session, claim) == []  # the 835 normally follows within days
    record_answer(session, claim.id or 0, _answer("F1", "65"), StatusRun(), now=NOW, today=TODAY)

    [task] = _tasks(session, claim)
    assert task.context["reason"] == "remittance_missing"
