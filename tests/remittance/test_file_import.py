"""`claimdesk remittances import FILE.835`: a portal's 835, posted as a picked-up one is.

Per backend (SQLite, PostgreSQL): the demo office's claims are exported as 837 files
(`claimdesk.submission.export`) and so sent; then the payer's portal hands out an 835
file with two sets, one balanced (two of those claims paid) and one that does not add
up. The balanced set posts, the other becomes an exception task, neither stops the
other; the same file again posts nothing. A second file from the payer itself (GS02 is
its id) is first picked up (``retrieval.post_file``) and then imported: nothing twice.
A malformed file is refused with its X12 position and nothing is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from claimdesk.claims.ledger import check_ledger_identity
from claimdesk.documents import make_document_store
from claimdesk.remittance.retrieval import RemittanceRun, post_file
from claimdesk.submission.export import export_837
from models import AuditEvent, Claim, Document, LedgerEntry, Payer, Remittance, ReviewTask
from tests.conftest import DB_BACKENDS
from tests.denials.builders_835 import remit
from tests.submission.portal_world import (
    AUDITOR,
    SPECIALIST,
    PortalWorld,
    claims_by_payer,
    make_portal_world,
    paid_clp,
)

pytestmark = pytest.mark.slow


def _one_interchange(*interchanges: bytes) -> bytes:
    """The sets of several builder interchanges in one ISA/GS (as a portal bundles them)."""
    sets = []
    for data in interchanges:
        text = data.decode()
        sets.append(text[text.index("ST*835*") : text.index("GE*")])
    head = interchanges[0].decode()
    return (
        f"{head[: head.index('ST*835*')]}{''.join(sets)}GE*{len(sets)}*1~IEA*1*000000001~"
    ).encode()


@dataclass
class Office:
    world: PortalWorld
    payer: str  # EDI id of the payer that pays
    paid: list[int]  # claims the balanced set pays
    unbalanced: int  # the claim in the set that does not add up
    picked_up: int  # the claim of the payer's own file
    paid_total: Decimal = Decimal(0)
    imports: dict[str, tuple[int, Any, str]] = field(default_factory=dict)
    counts: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


def _counts(world: PortalWorld) -> tuple[int, int, int, int]:
    """(documents, remittances, ledger entries, remittance tasks)."""
    with Session(world.engine) as session:
        return (
            session.exec(select(func.count()).select_from(Document)).one(),
            session.exec(select(func.count()).select_from(Remittance)).one(),
            session.exec(select(func.count()).select_from(LedgerEntry)).one(),
            session.exec(
                select(func.count()).select_from(ReviewTask).where(ReviewTask.kind == "remittance")
            ).one(),
        )


@pytest.fixture(scope="module", params=DB_BACKENDS)
def office(
    request: pytest.FixtureRequest, databases: Any, tmp_path_factory: Any
) -> Iterator[Office]:
    tmp = tmp_path_factory.mktemp(f"remit-{request.param}")
    world = make_portal_world(databases.settings(request.param, tmp), tmp, claims=10)
    try:
        store = make_document_store(world.settings)
        run = export_837(
            world.engine, world.settings, store, username=SPECIALIST, today=world.today
        )
        exported = {c for batch in run.batches for c, _ in batch.claims}
        payer, ids = max(claims_by_payer(world.engine).items(), key=lambda kv: len(kv[1]))
        ids = [i for i in ids if i in exported]
        assert len(ids) >= 4, (payer, ids)
        office = Office(world, payer, ids[:2], ids[2], ids[3])
        with Session(world.engine) as session:
            clps = [paid_clp(session, i) for i in office.paid]
            office.paid_total = sum((Decimal(c.paid) for c in clps), Decimal(0))
            balanced = remit(clps, trace="EFTPORTAL1")
            broken_set = remit(
                [paid_clp(session, office.unbalanced)], trace="EFTPORTAL2", total="1.00"
            )
            own = remit([paid_clp(session, office.picked_up)], trace="EFTPORTAL3")
            payer_row = session.exec(select(Payer).where(Payer.payer_id == payer)).one()
        portal = _one_interchange(balanced, broken_set)
        own = own.replace(b"GS*HP*PAYER*", f"GS*HP*{payer}*".encode())  # sent by the payer
        malformed = _break_first_clp_amount(portal)
        for name, data in (("portal", portal), ("own", own), ("malformed", malformed)):
            (tmp / f"{name}.835").write_bytes(data)
            office.digests[name] = hashlib.sha256(data).hexdigest()

        def run_import(
            name: str, file: str, who: str, *options: str, process: bool = False
        ) -> None:
            world.sign_in(who)  # `claimdesk login WHO`
            office.counts[f"{name} before"] = _counts(world)
            office.imports[name] = world.cli_json(
                "remittances", "import", str(tmp / file), *options, process=process
            )
            office.counts[name] = _counts(world)

        run_import("no payer", "portal.835", SPECIALIST)
        run_import("auditor", "portal.835", AUDITOR, "--payer", payer)
        run_import("portal", "portal.835", SPECIALIST, "--payer", payer, process=True)
        run_import("portal again", "portal.835", SPECIALIST, "--payer", payer)
        run_import("malformed", "malformed.835", SPECIALIST, "--payer", payer, process=True)
        pickup = RemittanceRun()
        post_file(world.engine, own, payer_row.id or 0, None, pickup)
        assert pickup.posted == 1, pickup
        run_import("own", "own.835", SPECIALIST)  # the sender says which payer
        yield office
    finally:
        world.engine.dispose()


def _break_first_clp_amount(data: bytes) -> bytes:
    """CLP03 (the charge) of the first claim with a letter O in front: not a number."""
    start = data.index(b"CLP*")
    fields = data[start : data.index(b"~", start)].split(b"*")
    fields[3] = b"O" + fields[3]
    return data[:start] + b"*".join(fields) + data[data.index(b"~", start) :]


def test_the_balanced_set_posts_and_the_other_becomes_an_exception(office: Office) -> None:
    code, done, stderr = office.imports["portal"]
    assert code == 0, stderr
    assert [s["outcome"] for s in done["sets"]] == ["posted", "exception"]
    assert (done["posted"], done["exceptions"], done["new_file"]) == (1, 1, True)
    assert sorted(done["sets"][0]["claim_ids"]) == sorted(office.paid)
    with Session(office.world.engine) as session:
        claims = {c.id: c for c in session.exec(select(Claim)).all()}
        tasks = session.exec(
            select(ReviewTask).where(col(ReviewTask.id).in_(done["task_ids"]))
        ).all()
        document = session.get(Document, done["document_id"])
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "remittance.file_imported")
        ).first()
        ledger_ok = [check_ledger_identity(session, i) for i in office.paid]
        posted = [
            r for r in session.exec(select(Remittance)).all() if r.trace_number == "EFTPORTAL1"
        ]
    assert {claims[i].status for i in office.paid} == {"paid"}
    assert all(ledger_ok)
    assert claims[office.unbalanced].status == "sent"  # nothing of it posted
    assert [t.context["reasons"] for t in tasks] == [["unbalanced"]]
    assert document is not None and (document.kind, document.direction) == ("x12_835", "received")
    assert document.sha256 == office.digests["portal"]
    assert event is not None and event.actor == SPECIALIST
    assert [r.amount for r in posted] == [office.paid_total] and office.paid_total > 0


def test_the_same_file_again_posts_nothing(office: Office) -> None:
    code, done, _ = office.imports["portal again"]
    assert code == 0
    assert [s["outcome"] for s in done["sets"]] == ["duplicate", "duplicate"]
    assert (done["new_file"], done["posted"], done["task_ids"]) == (False, 0, [])
    assert office.counts["portal again"] == office.counts["portal again before"]


def test_a_file_picked_up_before_posts_nothing_when_imported(office: Office) -> None:
    code, done, stderr = office.imports["own"]
    assert code == 0, stderr  # its sender (GS02) named the payer: no --payer needed
    assert [s["outcome"] for s in done["sets"]] == ["duplicate"]
    before, after = office.counts["own before"], office.counts["own"]
    assert after[1:] == before[1:]  # no remittance, ledger entry or task more
    with Session(office.world.engine) as session:
        claim = session.get(Claim, office.picked_up)
    assert claim is not None and claim.status == "paid"  # posted once, by the pickup


def test_a_malformed_file_is_refused_with_its_position_and_nothing_is_kept(
    office: Office,
) -> None:
    code, done, stderr = office.imports["malformed"]
    assert code == 2 and done is None
    assert "segment" in stderr and "CLP" in stderr and "Traceback" not in stderr
    assert office.counts["malformed"] == office.counts["malformed before"]
    digest = office.digests["malformed"]
    assert not list(office.world.settings.data_dir.rglob(f"*{digest}*"))  # not in the store


def test_an_unknown_sender_or_an_auditor_is_refused_and_nothing_is_kept(office: Office) -> None:
    code, _, stderr = office.imports["no payer"]
    assert code == 2 and "name the payer that paid" in stderr
    code, _, stderr = office.imports["auditor"]
    assert code == 1 and "may not import an 835" in stderr
    for name in ("no payer", "auditor"):
        assert office.counts[name] == office.counts[f"{name} before"]
