"""Posting 835s: money to the ledger, claims along the state machine, exceptions to people."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from claimdesk.claims.cob import read_prior_adjudication
from claimdesk.claims.ledger import (
    check_all_ledger_identities,
    check_ledger_identity,
    claim_balance,
)
from claimdesk.errors import ValidationFailed
from claimdesk.remittance.posting import post_remittance
from models import (
    Adjustment,
    Claim,
    ClaimCrossover,
    ClaimPayment,
    Denial,
    Document,
    FeeSchedule,
    LedgerEntry,
    ProviderLedgerEntry,
    RemarkCode,
    Remittance,
    ReviewTask,
    ServicePayment,
)
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim, make_coverage, make_payer

D = Decimal


def _document(session: Session, data: bytes) -> int:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    known = session.exec(select(Document).where(Document.sha256 == digest)).first()
    if known is not None and known.id is not None:
        return known.id
    doc = Document(
        kind="x12_835",
        sha256=digest,
        size=len(data),
        content_type="application/edi-x12",
        storage_key=f"sha256/{digest[:2]}/{digest}",
        direction="received",
    )
    session.add(doc)
    session.flush()
    assert doc.id is not None
    return doc.id


def _two_line_claim(session: Session, **overrides: Any) -> Claim:
    claim = make_claim(
        session,
        lines=[
            {
                "procedure_code": "99213",
                "charge": D("150.00"),
                "diagnosis_pointers": [1],
                "service_date": date(2026, 10, 1),
            },
            {
                "procedure_code": "36415",
                "charge": D("50.00"),
                "diagnosis_pointers": [1],
                "service_date": date(2026, 10, 1),
            },
        ],
        status="sent",
        **overrides,
    )
    return claim


def _paid_clp(claim: Claim, *, status: str = "1", payer_claim: str = "PCLM1") -> Clp:
    """200 billed: line 1 pays 100 (CO-45 20, PR-2 30), line 2 pays 40 (CO-45 8.80, CO-253 1.20)."""
    return Clp(
        claim.patient_control_number,
        status,
        "200",
        "140",
        "30",
        payer_claim=payer_claim,
        services=(
            Svc(
                "99213",
                "150",
                "100",
                {"CO": (("45", "20"),), "PR": (("2", "30"),)},
                ref=f"{claim.id}-1",
                allowed="130",
            ),
            Svc(
                "36415",
                "50",
                "40",
                {"CO": (("45", "8.80"), ("253", "1.20"))},
                ref=f"{claim.id}-2",
                allowed="41.20",
            ),
        ),
    )


def _post(session: Session, data: bytes, payer_id: int) -> Any:
    return post_remittance(
        session,
        document_bytes_or_parsed=data,
        payer_id=payer_id,
        document_id=_document(session, data),
    )


class TestBalancedPosting:
    def test_post_remittance_posts_payments_adjustments_and_patient_share(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        first, second = _two_line_claim(session, payer=payer), _two_line_claim(session, payer=payer)
        data = remit([_paid_clp(first), _paid_clp(second, payer_claim="PCLM2")])

        report = _post(session, data, payer.id)

        assert report.outcomes == ("posted",)
        assert set(report.claim_ids) == {first.id, second.id}
        assert report.denial_ids == () and report.task_ids == ()
        balance = claim_balance(session, first.id)
        assert balance.charge == D("200.00")
        assert balance.paid_by_payers == D("140.00")
        assert balance.contractual == D("30.00")
        assert (balance.insurance_balance, balance.patient_balance) == (D("0.00"), D("30.00"))
        assert check_ledger_identity(session, first.id) and check_ledger_identity(
            session, second.id
        )
        assert check_all_ledger_identities(session) == []
        assert first.status == "paid" and first.payer_claim_number == "PCLM1"
        lines = session.exec(
            select(ServicePayment).join(ClaimPayment).where(ClaimPayment.claim_id == first.id)
        ).all()
        assert all(line.claim_line_id is not None for line in lines)

    def test_claim_not_yet_posted_owes_its_charge_to_insurance(self, session: Session) -> None:
        claim = _two_line_claim(session)
        balance = claim_balance(session, claim.id)
        assert (balance.charge, balance.insurance_balance, balance.payments) == (
            D("200.00"),
            D("200.00"),
            D("0.00"),
        )
        assert balance.identity_holds() and check_ledger_identity(session, claim.id)

    def test_post_remittance_matches_lines_by_procedure_and_charge_without_ref_6r(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        clp = _paid_clp(claim)
        for svc in clp.services:
            svc.ref = None
        _post(session, remit([clp]), payer.id)
        lines = session.exec(select(ServicePayment)).all()
        matched = {s.procedure_code: s.claim_line_id for s in lines if s.claim_line_id}
        assert len(matched) == 2

    def test_post_remittance_twice_posts_nothing_twice(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        data = remit([_paid_clp(claim)])
        first = _post(session, data, payer.id)
        entries = len(session.exec(select(LedgerEntry)).all())

        again = post_remittance(
            session, document_bytes_or_parsed=data, payer_id=payer.id, document_id=None
        )

        assert again.outcomes == ("duplicate",)
        assert again.remittance_ids == first.remittance_ids
        assert len(session.exec(select(LedgerEntry)).all()) == entries
        assert len(session.exec(select(ClaimPayment)).all()) == 1
        assert claim_balance(session, claim.id).paid_by_payers == D("140.00")

    def test_a_concurrent_poster_that_won_the_insert_makes_this_one_a_duplicate(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from claimdesk.remittance import posting

        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        data = remit([_paid_clp(claim)])
        first = _post(session, data, payer.id)
        # The other worker committed after our check ran: only the unique key can tell.
        monkeypatch.setattr(posting, "_known", lambda *args: [])
        monkeypatch.setattr(
            posting,
            "_winner",
            lambda session, payer_id, trace, digest: session.get(
                Remittance, first.remittance_ids[0]
            ),
        )
        again = post_remittance(
            session, document_bytes_or_parsed=data, payer_id=payer.id, document_id=None
        )
        assert again.outcomes == ("duplicate",)
        assert again.remittance_ids == first.remittance_ids
        assert len(session.exec(select(ClaimPayment)).all()) == 1

    def test_ledger_refuses_a_second_entry_with_the_same_source_key(self, session: Session) -> None:
        from sqlalchemy.exc import IntegrityError

        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        _post(session, remit([_paid_clp(claim)]), payer.id)
        entry = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "payment")).one()
        copy = LedgerEntry.model_validate(entry.model_dump(exclude={"id"}))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(copy)
            session.flush()

    def test_post_remittance_keeps_remark_codes(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        clp = _paid_clp(claim)
        clp.services[0].remarks = ("N130",)
        _post(session, remit([clp]), payer.id)
        assert [r.code for r in session.exec(select(RemarkCode)).all()] == ["N130"]


class TestExceptions:
    def test_unbalanced_835_is_an_exception_task_and_the_file_is_kept(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        data = remit([_paid_clp(claim)], total="150.00")  # Σ CLP04 is 140

        report = _post(session, data, payer.id)

        assert report.outcomes == ("exception",)
        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        assert task.context["reasons"] == ["unbalanced"]
        assert task.context["remittance_id"] == report.remittance_ids[0]
        assert session.get(Document, task.context["document_id"]) is not None
        assert session.exec(select(ClaimPayment)).all() == []
        assert session.exec(select(LedgerEntry)).all() == []
        assert claim.status == "sent"

    def test_truncated_835_is_an_exception_task_and_the_file_is_kept(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        data = remit([_paid_clp(claim)])
        truncated = data[: len(data) // 2]

        report = _post(session, truncated, payer.id)

        assert report.outcomes == ("exception",)
        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        assert task.context["reasons"] == ["unreadable"]
        assert session.get(Document, task.context["document_id"]) is not None
        remittance = session.get(Remittance, report.remittance_ids[0])
        assert remittance is not None and remittance.status == "exception"

    def test_same_trace_with_different_content_is_an_exception_never_a_skip(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        _post(session, remit([_paid_clp(claim)]), payer.id)
        changed = _paid_clp(claim)
        changed.payer_claim = "OTHER"

        report = _post(session, remit([changed]), payer.id)

        assert report.outcomes == ("exception",)
        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        assert task.context["reasons"] == ["trace_conflict"]
        assert len(session.exec(select(ClaimPayment)).all()) == 1

    def test_unmatched_claim_is_kept_unposted_in_an_exception_task(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        stranger = Clp("NOSUCHPCN", "1", "80", "80", services=(Svc("99212", "80", "80"),))
        report = _post(session, remit([_paid_clp(claim), stranger]), payer.id)

        assert report.outcomes == ("posted",)
        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        assert task.context["reasons"] == ["unmatched_claims"]
        [unmatched] = session.exec(
            select(ClaimPayment).where(ClaimPayment.claim_id == None)  # noqa: E711
        ).all()
        assert task.context["claim_payment_ids"] == [unmatched.id]
        assert check_ledger_identity(session, claim.id)

    def test_unmatched_claim_matched_by_hand_is_posted_by_the_decision(
        self, session: Session
    ) -> None:
        from claimdesk.workqueue.appliers import apply_recorded_decision
        from claimdesk.workqueue.resolve import record_decision
        from models import User

        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        clp = _paid_clp(claim)
        clp.pcn = "TYPO" + claim.patient_control_number[4:]
        _post(session, remit([clp]), payer.id)
        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        [cp_id] = task.context["claim_payment_ids"]
        user = User(username="poster", role="specialist", password_hash="x")
        session.add(user)
        session.flush()
        bad = {"action": "repost", "claim_payment_id": cp_id, "claim_id": None}
        with pytest.raises(ValidationFailed):
            record_decision(session=session, task_id=task.id, user=user, decision=bad)
        row = record_decision(
            session=session,
            task_id=task.id,
            user=user,
            decision={"action": "repost", "claim_payment_id": cp_id, "claim_id": claim.id},
        )

        outcome = apply_recorded_decision(session=session, task_id=task.id, decision_id=row.id)

        assert outcome == "reposted"
        assert claim.status == "paid"
        assert claim_balance(session, claim.id).paid_by_payers == D("140.00")
        assert check_ledger_identity(session, claim.id)
        lines = session.exec(select(ServicePayment)).all()
        assert all(line.claim_line_id is not None for line in lines)

    def test_underpaid_line_opens_a_review_task(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        session.add(
            FeeSchedule(
                payer_id=payer.id,
                code="99213",
                effective_from=date(2026, 1, 1),
                expected_allowed=D("135.00"),
            )
        )
        session.add(
            FeeSchedule(
                payer_id=payer.id,
                code="36415",
                effective_from=date(2026, 1, 1),
                expected_allowed=D("41.20"),
            )
        )
        session.flush()

        report = _post(session, remit([_paid_clp(claim)]), payer.id)

        [task] = session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all()
        assert report.task_ids == (task.id,)
        assert task.claim_id == claim.id and task.context["reasons"] == ["underpayment"]
        [svc_id] = task.context["service_payment_ids"]
        svc = session.get(ServicePayment, svc_id)
        assert svc is not None and svc.procedure_code == "99213"  # allowed 130 < 135
        assert claim.status == "paid"  # the money that came is posted, not hidden


class TestReversalsAndProviderAdjustments:
    def test_reversal_reopens_the_claim_and_a_correction_posts_again(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        _post(session, remit([_paid_clp(claim)]), payer.id)
        reversal = Clp(
            claim.patient_control_number,
            "22",
            "-200",
            "-140",
            "-30",
            services=(
                Svc(
                    "99213",
                    "-150",
                    "-100",
                    {"CO": (("45", "-20"),), "PR": (("2", "-30"),)},
                    ref=f"{claim.id}-1",
                ),
                Svc(
                    "36415",
                    "-50",
                    "-40",
                    {"CO": (("45", "-8.80"), ("253", "-1.20"))},
                    ref=f"{claim.id}-2",
                ),
            ),
        )
        corrected = Clp(
            claim.patient_control_number,
            "1",
            "200",
            "170",
            "0",
            payer_claim="PCLM9",
            services=(
                Svc("99213", "150", "130", {"CO": (("45", "20"),)}, ref=f"{claim.id}-1"),
                Svc("36415", "50", "40", {"CO": (("45", "10"),)}, ref=f"{claim.id}-2"),
            ),
        )

        _post(session, remit([reversal], trace="EFT2002"), payer.id)
        assert claim.status == "pending"
        reopened = claim_balance(session, claim.id)
        assert reopened.insurance_balance == D("200.00") and reopened.payments == 0
        assert check_ledger_identity(session, claim.id)

        _post(session, remit([corrected], trace="EFT2003"), payer.id)
        assert claim.status == "paid" and claim.payer_claim_number == "PCLM9"
        final = claim_balance(session, claim.id)
        assert (final.paid_by_payers, final.contractual, final.open_balance) == (
            D("170.00"),
            D("30.00"),
            D("0.00"),
        )
        assert check_ledger_identity(session, claim.id)

    def test_plb_goes_to_the_provider_ledger_linked_by_its_reference(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        earlier = _post(session, remit([_paid_clp(claim)], trace="EFT0900"), payer.id)
        other = _two_line_claim(session, payer=payer)
        data = remit(
            [_paid_clp(other, payer_claim="PCLM5")],
            trace="EFT0901",
            plb=(("WO", "EFT0900", "12.50"), ("L6", "EFT0901", "-1.25")),
        )

        report = _post(session, data, payer.id)

        rows = session.exec(
            select(ProviderLedgerEntry).order_by(ProviderLedgerEntry.position)
        ).all()
        assert [(r.reason_code, r.amount) for r in rows] == [("WO", D("12.50")), ("L6", D("-1.25"))]
        assert rows[0].linked_remittance_id == earlier.remittance_ids[0]
        assert rows[1].linked_remittance_id is None  # its own trace: nothing earlier to link
        assert report.sets[0].provider_ledger_ids == tuple(r.id for r in rows)
        remittance = session.get(Remittance, report.remittance_ids[0])
        assert remittance is not None and remittance.amount == D("128.75")
        assert check_ledger_identity(session, other.id)


class TestSecondaryClaims:
    def _with_secondary(self, session: Session) -> tuple[Claim, Any]:
        payer, secondary_payer = make_payer(session), make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        from models import Patient

        patient = session.get(Patient, claim.patient_id)
        assert patient is not None
        coverage = make_coverage(session, patient, secondary_payer, coverage_order=2)
        return claim, coverage

    def test_patient_share_left_with_a_secondary_coverage_creates_the_secondary_claim(
        self, session: Session
    ) -> None:
        claim, coverage = self._with_secondary(session)
        report = _post(session, remit([_paid_clp(claim)]), claim.payer_id)

        [secondary_id] = report.secondary_claim_ids
        secondary = session.get(Claim, secondary_id)
        assert secondary is not None
        assert (secondary.coverage_order, secondary.primary_claim_id) == (2, claim.id)
        assert (secondary.payer_id, secondary.status) == (coverage.payer_id, "ready")
        assert secondary.total_charge == claim.total_charge
        assert claim.status == "billed_secondary"
        balance = claim_balance(session, claim.id)
        assert (balance.insurance_balance, balance.patient_balance) == (D("30.00"), D("0.00"))
        prior = read_prior_adjudication(session, secondary_id)
        assert prior is not None and prior.paid == D("140.00")
        assert [line.line_number for line in prior.lines] == [1, 2]
        assert ("PR", "2", D("30.00")) in prior.lines[0].adjustments
        # posting it again creates no second secondary claim
        assert _post(session, remit([_paid_clp(claim)]), claim.payer_id).outcomes == ("duplicate",)
        assert len(session.exec(select(Claim).where(Claim.primary_claim_id == claim.id)).all()) == 1

    def test_secondary_835_posts_to_the_encounter_and_ignores_oa_23(self, session: Session) -> None:
        claim, coverage = self._with_secondary(session)
        [secondary_id] = _post(
            session, remit([_paid_clp(claim)]), claim.payer_id
        ).secondary_claim_ids
        secondary = session.get(Claim, secondary_id)
        assert secondary is not None
        secondary.status = "sent"
        second_clp = Clp(
            secondary.patient_control_number,
            "2",
            "200",
            "25",
            "5",
            services=(
                Svc(
                    "99213",
                    "150",
                    "25",
                    {"OA": (("23", "120"),), "PR": (("2", "5"),)},
                    ref=f"{secondary_id}-1",
                ),
                Svc("36415", "50", "0", {"OA": (("23", "50"),)}, ref=f"{secondary_id}-2"),
            ),
        )

        _post(session, remit([second_clp], trace="SEC1"), coverage.payer_id)

        balance = claim_balance(session, secondary_id)
        assert balance.claim_id == claim.id
        assert balance.paid_by_payers == D("165.00")
        assert (balance.insurance_balance, balance.patient_balance) == (D("0.00"), D("5.00"))
        assert check_ledger_identity(session, secondary_id)

    def test_a_secondary_repeating_the_primarys_denial_opens_no_second_denial(
        self, session: Session
    ) -> None:
        claim, coverage = self._with_secondary(session)
        primary = Clp(
            claim.patient_control_number, "1", "200", "120", "30",
            services=(
                Svc("99213", "150", "120", {"PR": (("2", "30"),)}, ref=f"{claim.id}-1"),
                Svc("36415", "50", "0", {"CO": (("97", "50"),)}, ref=f"{claim.id}-2"),
            ),
        )  # fmt: skip
        [secondary_id] = _post(session, remit([primary]), claim.payer_id).secondary_claim_ids
        secondary = session.get(Claim, secondary_id)
        assert secondary is not None
        secondary.status = "sent"
        repeat = Clp(
            secondary.patient_control_number, "2", "200", "30", "0",
            services=(
                Svc("99213", "150", "30", {"OA": (("23", "120"),)}, ref=f"{secondary_id}-1"),
                Svc("36415", "50", "0", {"CO": (("97", "50"),)}, ref=f"{secondary_id}-2"),
            ),
        )  # fmt: skip

        report = _post(session, remit([repeat], trace="SEC2"), coverage.payer_id)

        assert report.denial_ids == ()
        [denial] = session.exec(select(Denial)).all()  # the primary's, still to be worked
        assert (denial.claim_id, denial.reason_code) == (claim.id, "97")
        assert secondary.status == "paid"
        balance = claim_balance(session, claim.id)
        assert (balance.insurance_balance, balance.patient_balance) == (D("50.00"), D("0.00"))
        assert check_ledger_identity(session, claim.id)

    def test_crossover_is_recorded_instead_of_a_secondary_claim(self, session: Session) -> None:
        claim, _ = self._with_secondary(session)
        clp = _paid_clp(claim, status="19")
        clp.crossover_to = "MEDIGAP01"

        report = _post(session, remit([clp]), claim.payer_id)

        assert report.secondary_claim_ids == ()
        assert report.sets[0].crossover_claim_ids == (claim.id,)
        [row] = session.exec(select(ClaimCrossover)).all()
        assert (row.claim_id, row.status_code, row.carrier_identifier) == (
            claim.id,
            "19",
            "MEDIGAP01",
        )
        assert session.exec(select(Claim).where(Claim.primary_claim_id == claim.id)).all() == []
        assert claim.status == "billed_secondary"
        assert check_ledger_identity(session, claim.id)


class TestDenialsFromPosting:
    def test_denied_claim_creates_a_denial_and_keeps_the_balance_open(
        self, session: Session
    ) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        clp = Clp(
            claim.patient_control_number,
            "4",
            "200",
            "0",
            "0",
            moa=("MA130",),
            services=(
                Svc("99213", "150", "0", {"CO": (("16", "150"),)}, ref=f"{claim.id}-1"),
                Svc("36415", "50", "0", {"CO": (("16", "50"),)}, ref=f"{claim.id}-2"),
            ),
        )

        report = _post(session, remit([clp]), payer.id)

        [denial] = session.exec(select(Denial)).all()
        assert report.denial_ids == (denial.id,)
        assert (denial.group_code, denial.reason_code, denial.amount) == ("CO", "16", D("200.00"))
        assert denial.remark_codes == ["MA130"] and denial.queue == "corrections"
        assert claim.status == "denied"
        assert claim_balance(session, claim.id).insurance_balance == D("200.00")
        assert check_ledger_identity(session, claim.id)

    def test_co_18_on_a_claim_already_paid_closes_itself(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        _post(session, remit([_paid_clp(claim)]), payer.id)
        duplicate = Clp(
            claim.patient_control_number,
            "4",
            "200",
            "0",
            "0",
            cas={"CO": (("18", "200"),)},
            payer_claim="PCLM2",
        )

        report = _post(session, remit([duplicate], trace="EFT3003"), payer.id)

        assert report.denial_ids == ()
        [denial] = session.exec(select(Denial)).all()
        assert denial.status == "closed" and report.sets[0].closed_denial_ids == (denial.id,)
        assert claim.status == "paid"
        assert claim_balance(session, claim.id).paid_by_payers == D("140.00")
        assert check_ledger_identity(session, claim.id)

    def test_adjustment_rows_keep_every_cas_triplet(self, session: Session) -> None:
        payer = make_payer(session)
        claim = _two_line_claim(session, payer=payer)
        _post(session, remit([_paid_clp(claim)]), payer.id)
        codes = sorted((a.group_code, a.reason_code) for a in session.exec(select(Adjustment)))
        assert codes == [("CO", "253"), ("CO", "45"), ("CO", "45"), ("PR", "2")]
