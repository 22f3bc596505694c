"""Working denials: review tasks with deadlines, decisions checked against the denial, applied."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from claimdesk.claims.ledger import check_ledger_identity, claim_balance
from claimdesk.denials.appeals import record_appeal_outcome
from claimdesk.denials.decisions import apply_denial_decision, apply_write_off_approval
from claimdesk.denials.service import denial_explanation, open_denial_review
from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import ValidationFailed
from claimdesk.remittance.posting import post_remittance
from claimdesk.review.decisions import DenialDecision, WriteOffApprovalDecision
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import record_decision
from models import Appeal, Claim, Denial, Document, Patient, ReviewTask, User
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim, make_coverage, make_payer

D = Decimal
NOTICE = date(2026, 11, 2)  # the 835's payment date (BPR16)
TODAY = date(2026, 11, 7)


def _denied(
    session: Session,
    codes: tuple[tuple[str, str, str], ...] = (("CO", "50", "200"),),
    *,
    payer_kind: str = "commercial",
    moa: tuple[str, ...] = (),
    **payer_fields: object,
) -> tuple[Claim, list[Denial]]:
    """A 200.00 one-line claim the payer denied with ``codes`` (group, CARC, amount)."""
    payer = make_payer(session, kind=payer_kind, **payer_fields)
    claim = make_claim(
        session,
        payer=payer,
        status="sent",
        lines=[
            {
                "procedure_code": "99214",
                "charge": D("200.00"),
                "diagnosis_pointers": [1],
                "service_date": date(2026, 10, 1),
            }
        ],
    )
    cas: dict[str, tuple[tuple[str, str], ...]] = {}
    for group, carc, amount in codes:
        cas[group] = (*cas.get(group, ()), (carc, amount))
    patient = sum((D(a) for g, _, a in codes if g == "PR"), D(0))
    clp = Clp(
        claim.patient_control_number,
        "4",
        "200",
        "0",
        str(patient),
        moa=moa,
        services=(Svc("99214", "200", "0", cas, ref=f"{claim.id}-1"),),
    )
    report = post_remittance(
        session,
        document_bytes_or_parsed=remit([clp]),
        payer_id=payer.id,
        document_id=None,
        today=TODAY,  # the review task posting opens is priced on claimdesk's clock
    )
    denials = [session.get(Denial, i) for i in report.denial_ids]
    return claim, [d for d in denials if d is not None]


def _task(session: Session, denial: Denial) -> ReviewTask:
    return open_denial_review(session, denial.id or 0, today=TODAY)


def _attachment(session: Session, name: str = "records") -> int:
    doc = Document(
        kind="attachment",
        sha256=(name * 64)[:64],
        size=1,
        content_type="application/pdf",
        storage_key=f"k/{name}",
    )
    session.add(doc)
    session.flush()
    assert doc.id is not None
    return doc.id


class TestDenialReview:
    def test_denial_review_task_is_due_before_the_appeal_deadline(self, session: Session) -> None:
        claim, [denial] = _denied(session, payer_kind="medicare")
        task = _task(session, denial)
        # Medicare redetermination: notice 2 Nov + 5 days mail + 120 days = 7 Mar 2027.
        assert task.context["deadline"] == "2027-03-07"
        assert task.due_at == datetime(2027, 2, 21, 17, tzinfo=UTC)  # less the 14-day buffer
        assert task.priority == 17  # 10 × 200 / 120 days left
        assert (task.kind, task.claim_id, task.step) == ("denial", claim.id, 1)
        assert task.context["reason_code"] == "50" and task.context["appealable"] is True
        assert _task(session, denial).id == task.id  # idempotent

    def test_each_denial_on_a_claim_gets_its_own_review(self, session: Session) -> None:
        _, denials = _denied(session, (("CO", "50", "150"), ("CO", "97", "50")))
        tasks = [_task(session, d) for d in denials]
        assert sorted(t.step for t in tasks) == [1, 2]
        assert len({t.pause_key for t in tasks}) == 2

    def test_denial_explanation_gives_payer_words_and_plain_english(self, session: Session) -> None:
        _, [denial] = _denied(session, (("CO", "16", "200"),), moa=("MA130",))
        explained = denial_explanation(session, denial.id or 0)
        assert explained["code"] == "CO-16"
        assert explained["payer_words"].startswith("Claim/service lacks information")
        assert explained["remarks"][0][0] == "MA130"
        assert explained["appealable"] is False


class TestDecisions:
    @pytest.mark.parametrize(
        ("codes", "moa", "kind"),
        [
            ((("CO", "29", "200"),), (), "medicare"),
            ((("CO", "16", "200"),), ("MA130",), "commercial"),
        ],
    )
    def test_appeal_is_refused_for_a_denial_without_appeal_rights(
        self,
        session: Session,
        codes: tuple[tuple[str, str, str], ...],
        moa: tuple[str, ...],
        kind: str,
    ) -> None:
        _, [denial] = _denied(session, codes, payer_kind=kind, moa=moa)
        task = _task(session, denial)
        assert task.context["appealable"] is False
        assert "appeal" not in task.decision_schema["properties"]["action"]["enum"]
        # no appeal window: the work is due before the timely-filing limit (365 days)
        assert task.context["deadline"] == "2027-10-01"
        decision = DenialDecision(action="appeal", argument="it was filed on time")
        with pytest.raises(ValidationFailed, match="no appeal rights"):
            apply_denial_decision(session, task, decision)
        assert session.exec(select(Appeal)).all() == []
        # Refused before it is stored, too: nothing is recorded for the flow to apply.
        user = User(username="spec9", role="specialist", password_hash="x")
        session.add(user)
        session.flush()
        with pytest.raises(ValidationFailed, match="no appeal rights"):
            record_decision(
                session=session,
                task_id=task.id or 0,
                user=user,
                decision={"action": "appeal", "argument": "it was filed on time"},
            )
        session.refresh(task)
        assert task.status == "open" and task.decision_id is None

    def test_appeal_creates_the_level_and_its_letter(
        self, session: Session, tmp_path: Path
    ) -> None:
        claim, [denial] = _denied(session, payer_kind="medicare")
        records = _attachment(session)
        decision = DenialDecision(
            action="appeal",
            argument="The visit was medically necessary: see the notes.",
            document_ids=[records],
        )
        store = LocalDocumentStore(tmp_path)

        outcome = apply_denial_decision(
            session, _task(session, denial), decision, store=store, today=TODAY
        )

        assert outcome == "appealed"
        [appeal] = session.exec(select(Appeal)).all()
        assert (appeal.level, appeal.deadline, appeal.channel) == (1, date(2027, 3, 7), "mail")
        assert claim.status == "appealed" and denial.status == "appealed"
        letter = session.get(Document, appeal.letter_document_id)
        assert letter is not None and letter.kind == "appeal_letter"
        text = PdfReader(io.BytesIO(store.get(letter.storage_key, sha256=letter.sha256)))
        words = " ".join(" ".join(page.extract_text() for page in text.pages).split())
        patient = session.get(Patient, claim.patient_id)
        assert patient is not None and patient.last_name in words
        assert "redetermination (appeal level 1)" in words
        assert "CO-50: These are non-covered services" in words  # the payer's words
        assert "not medically necessary; appeal with the medical records" in words  # plain
        assert "The visit was medically necessary" in words
        assert f"attachment (document {records})" in words
        assert "2027-03-07" in words
        record_appeal_outcome(session, appeal_id=appeal.id or 0, outcome="overturned")

    def test_corrected_claim_is_a_replacement_where_the_payer_takes_them(
        self, session: Session
    ) -> None:
        claim, [denial] = _denied(session, (("CO", "4", "200"),))
        decision = DenialDecision.model_validate(
            {
                "action": "corrected_claim",
                "corrections": {"lines": [{"line_number": 1, "modifiers": ["25"]}]},
            }
        )
        assert apply_denial_decision(session, _task(session, denial), decision) == (
            "corrected_replacement"
        )
        assert (claim.frequency_code, claim.original_payer_claim_number) == ("7", "PCLM1")
        assert (claim.version, claim.status, denial.status) == (2, "ready", "corrected")

    def test_corrected_claim_is_a_new_original_where_the_payer_takes_no_replacements(
        self, session: Session
    ) -> None:
        claim, [denial] = _denied(session, (("CO", "16", "200"),), accepts_replacement_claims=False)
        decision = DenialDecision.model_validate(
            {
                "action": "corrected_claim",
                "reason": "billed the wrong level",
                "corrections": {
                    "lines": [{"line_number": 1, "procedure_code": "99213", "charge": "180.00"}]
                },
            }
        )
        assert apply_denial_decision(session, _task(session, denial), decision) == (
            "corrected_new_original"
        )
        assert (claim.frequency_code, claim.original_payer_claim_number) == ("1", None)
        assert claim.total_charge == D("180.00")
        assert claim_balance(session, claim.id or 0).insurance_balance == D("180.00")
        assert check_ledger_identity(session, claim.id or 0)

    def test_bill_patient_needs_the_pr_group_or_a_waiver(self, session: Session) -> None:
        claim, [denial] = _denied(session, (("CO", "96", "200"),))
        task = _task(session, denial)
        with pytest.raises(ValidationFailed, match="waiver"):
            apply_denial_decision(session, task, DenialDecision(action="bill_patient"))
        waiver = _attachment(session, "abn")
        decision = DenialDecision(action="bill_patient", waiver_document_id=waiver)
        assert apply_denial_decision(session, task, decision) == "billed_patient"
        balance = claim_balance(session, claim.id or 0)
        assert (balance.insurance_balance, balance.patient_balance) == (D("0.00"), D("200.00"))
        assert claim.status == "billed_patient" and check_ledger_identity(session, claim.id or 0)

    def test_pr_204_is_already_the_patients_balance(self, session: Session) -> None:
        claim, [denial] = _denied(session, (("PR", "204", "200"),))
        assert claim_balance(session, claim.id or 0).patient_balance == D("200.00")
        outcome = apply_denial_decision(
            session, _task(session, denial), DenialDecision(action="bill_patient")
        )
        assert outcome == "billed_patient"
        assert claim_balance(session, claim.id or 0).patient_balance == D("200.00")

    def test_bill_secondary_creates_the_cob_claim(self, session: Session) -> None:
        claim, [denial] = _denied(session, (("CO", "22", "200"),))
        patient = session.get(Patient, claim.patient_id)
        assert patient is not None
        make_coverage(session, patient, make_payer(session), coverage_order=2)
        outcome = apply_denial_decision(
            session, _task(session, denial), DenialDecision(action="bill_secondary")
        )
        assert outcome == "billed_secondary"
        [secondary] = session.exec(select(Claim).where(Claim.primary_claim_id == claim.id)).all()
        assert secondary.coverage_order == 2 and secondary.status == "ready"

    def test_small_write_off_posts_and_closes_the_claim(self, session: Session) -> None:
        claim, [denial] = _denied(session, (("CO", "97", "200"),))
        decision = DenialDecision(action="write_off", reason="bundled; no modifier applies")
        # 200.00 is under the 250.00 threshold
        assert apply_denial_decision(session, _task(session, denial), decision) == "written_off"
        balance = claim_balance(session, claim.id or 0)
        assert (balance.written_off, balance.open_balance) == (D("200.00"), D("0.00"))
        assert claim.status == "written_off" and denial.status == "written_off"
        assert check_ledger_identity(session, claim.id or 0)

    def test_large_write_off_waits_for_a_leads_approval(self, session: Session) -> None:
        claim, [denial] = _denied(session, (("CO", "50", "200"),))
        denial.amount = D("900.00")  # above the threshold (a bigger claim, same rules)
        decision = DenialDecision(action="write_off", reason="not worth appealing")
        outcome = apply_denial_decision(session, _task(session, denial), decision)
        [approval] = session.exec(
            select(ReviewTask).where(ReviewTask.kind == "write_off_approval")
        ).all()
        assert outcome == f"write_off_needs_approval:{approval.id}"
        assert approval.context["denial_id"] == denial.id
        assert claim_balance(session, claim.id or 0).written_off == 0
        approve = WriteOffApprovalDecision(action="approve")
        assert apply_write_off_approval(session, approval, approve) == "written_off"
        assert claim_balance(session, claim.id or 0).written_off == D("900.00")

    def test_decision_service_applies_a_recorded_denial_decision_once(
        self, session: Session
    ) -> None:
        claim, [denial] = _denied(session, (("CO", "97", "200"),))
        task = _task(session, denial)
        user = User(username="spec1", role="specialist", password_hash="x")
        session.add(user)
        session.flush()
        row = record_decision(
            session=session,
            task_id=task.id or 0,
            user=user,
            decision={"action": "write_off", "reason": "bundled"},
        )
        first = apply_recorded_decision(
            session=session, task_id=task.id or 0, decision_id=row.id or 0
        )
        again = apply_recorded_decision(
            session=session, task_id=task.id or 0, decision_id=row.id or 0
        )
        assert (first, again) == ("written_off", "already_applied")
        assert claim_balance(session, claim.id or 0).written_off == D("200.00")

    def test_an_upheld_appeal_opens_a_new_review_round_for_the_next_level(
        self, session: Session
    ) -> None:
        claim, [denial] = _denied(session, payer_kind="medicare")
        user = User(username="spec2", role="specialist", password_hash="x")
        session.add(user)
        session.flush()
        first = _task(session, denial)
        row = record_decision(
            session=session,
            task_id=first.id or 0,
            user=user,
            decision={"action": "appeal", "argument": "necessary: see the notes"},
        )
        apply_recorded_decision(session=session, task_id=first.id or 0, decision_id=row.id or 0)
        [level_1] = session.exec(select(Appeal)).all()
        assert _task(session, denial).id == first.id  # still appealed: nothing new to review

        record_appeal_outcome(session, appeal_id=level_1.id or 0, outcome="upheld")

        assert (denial.status, claim.status) == ("open", "denied")
        second = _task(session, denial)
        assert second.id != first.id and second.step == 1001
        decided = level_1.decided_at
        assert decided is not None
        # reconsideration: the level-1 decision + 5 days' mail + 180 days
        assert second.context["deadline"] == (decided.date() + timedelta(days=185)).isoformat()
        row = record_decision(
            session=session,
            task_id=second.id or 0,
            user=user,
            decision={"action": "appeal", "argument": "the records were not read"},
        )
        apply_recorded_decision(session=session, task_id=second.id or 0, decision_id=row.id or 0)
        levels = sorted(a.level for a in session.exec(select(Appeal)).all())
        assert levels == [1, 2]

    def test_a_refused_write_off_goes_back_to_the_specialist(self, session: Session) -> None:
        _, [denial] = _denied(session, (("CO", "50", "200"),))
        denial.amount = D("900.00")
        task = _task(session, denial)
        task.status = "resolved"  # as record_decision leaves it
        decision = DenialDecision(action="write_off", reason="not worth appealing")
        apply_denial_decision(session, task, decision)
        assert denial.status == "write_off_pending"
        assert _task(session, denial).id == task.id
        [approval] = session.exec(
            select(ReviewTask).where(ReviewTask.kind == "write_off_approval")
        ).all()
        refuse = WriteOffApprovalDecision(action="reject", reason="appeal it first")
        assert apply_write_off_approval(session, approval, refuse) == "write_off_rejected"
        assert denial.status == "open"
        assert _task(session, denial).step == 1001
