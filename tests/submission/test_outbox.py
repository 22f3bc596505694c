"""Exactly once on the wire: build and commit first, then send the stored bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import ValidationFailed
from claimdesk.gateway.client import SubmissionReceipt
from claimdesk.gateway.errors import PayerUnavailable
from claimdesk.submission.outbox import ControlNumbers, build_submission, send_submission
from models import Claim, Submission, SubmissionClaim
from tests.gateway.x12_samples import interchange


class RecordingGateway:
    """A PayerGateway that fails ``failures`` times, then accepts; records what it got."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[bytes, str, list[int]]] = []

    def submit(
        self, x12_837: bytes, *, payload_id: str, claim_ids: Iterable[int] = ()
    ) -> SubmissionReceipt:
        self.sent.append((x12_837, payload_id, list(claim_ids)))
        if self.failures:
            self.failures -= 1
            raise PayerUnavailable("payer 'P' submit: timed out.", payer_id="P", call="submit")
        from datetime import UTC, datetime

        return SubmissionReceipt(
            payer_id="P",
            payload_id=payload_id,
            received_at=datetime.now(UTC),
            core_error_code="Success",
            document_id=1,
        )

    def eligibility(self, x12_270: bytes, *, claim_ids: Iterable[int] = ()) -> bytes:
        raise NotImplementedError

    def status(self, x12_276: bytes, *, claim_ids: Iterable[int] = ()) -> bytes:
        raise NotImplementedError

    def retrieve(self, kind: str) -> list:  # type: ignore[type-arg]
        raise NotImplementedError

    def submit_appeal(self, packet: object) -> object:
        raise NotImplementedError


def writer(calls: list[ControlNumbers]) -> Callable[[ControlNumbers], bytes]:
    def write(numbers: ControlNumbers) -> bytes:
        calls.append(numbers)
        return interchange("837", control=int(numbers.isa13))

    return write


def claims_of(engine: Engine, ids: list[int]) -> tuple[int, list[tuple[int, int]]]:
    with Session(engine) as session:
        claims = [session.get(Claim, i) for i in ids]
    payer_id = claims[0].payer_id  # type: ignore[union-attr]
    return payer_id, [(c.id, c.version) for c in claims]  # type: ignore[misc,union-attr]


def test_build_submission_commits_before_sending(
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    committed_claims: Callable[[int], list[int]],
) -> None:
    payer_id, claims = claims_of(sqlite_engine, committed_claims(2))
    calls: list[ControlNumbers] = []
    submission_id = build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=claims, write_837=writer(calls)
    )
    with Session(sqlite_engine) as session:
        submission = session.get(Submission, submission_id)
        rows = session.exec(
            select(SubmissionClaim).where(SubmissionClaim.submission_id == submission_id)
        ).all()
    assert submission is not None
    assert submission.status == "built"
    assert submission.interchange_control_number == calls[0].isa13
    assert len(submission.payload_id) == 36
    assert sorted((r.claim_id, r.claim_version) for r in rows) == sorted(claims)


def test_build_submission_again_returns_same_submission(
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    committed_claims: Callable[[int], list[int]],
) -> None:
    payer_id, claims = claims_of(sqlite_engine, committed_claims(2))
    calls: list[ControlNumbers] = []
    first = build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=claims, write_837=writer(calls)
    )
    again = build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=claims, write_837=writer(calls)
    )
    assert again == first
    assert len(calls) == 1


def test_build_submission_refuses_claim_in_another_submission(
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    committed_claims: Callable[[int], list[int]],
) -> None:
    payer_id, claims = claims_of(sqlite_engine, committed_claims(2))
    build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=claims[:1], write_837=writer([])
    )
    with pytest.raises(ValidationFailed, match="already in submission"):
        build_submission(
            sqlite_engine, store, payer_id=payer_id, claims=claims, write_837=writer([])
        )


def test_send_submission_retry_resends_same_bytes_and_payload_id(
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    committed_claims: Callable[[int], list[int]],
) -> None:
    payer_id, claims = claims_of(sqlite_engine, committed_claims(1))
    submission_id = build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=claims, write_837=writer([])
    )
    gateway = RecordingGateway(failures=1)
    with pytest.raises(PayerUnavailable):
        send_submission(sqlite_engine, store, gateway, submission_id)
    with Session(sqlite_engine) as session:
        assert session.get(Submission, submission_id).status == "built"  # type: ignore[union-attr]
    receipt = send_submission(sqlite_engine, store, gateway, submission_id)
    assert receipt is not None
    (first_bytes, first_id, claim_ids), (second_bytes, second_id, _) = gateway.sent
    assert (first_bytes, first_id) == (second_bytes, second_id)
    assert claim_ids == [claims[0][0]]
    with Session(sqlite_engine) as session:
        submission = session.get(Submission, submission_id)
    assert submission is not None
    assert (submission.status, submission.payload_id) == ("sent", first_id)
    assert submission.sent_at is not None
    # Sent already: nothing goes on the wire again.
    assert send_submission(sqlite_engine, store, gateway, submission_id) is None
    assert len(gateway.sent) == 2
