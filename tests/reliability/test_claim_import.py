"""`claimdesk claims import`: a file with a broken row or claim imports nothing, and says where.

Both formats (CSV and 837P), both backends, through the service and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import session_scope
from claimdesk.intake.import_claims import ImportRefused, import_claims
from claimdesk.settings import Settings
from claimdesk.x12 import write_837
from models import AuditEvent, Claim, ClaimLine, Diagnosis, Provider
from tests.factories import make_coverage, make_patient, make_payer, make_practice
from tests.x12.strategies import BILLING, DOCTOR, make_837_batch

HEADER = (
    "practice_npi,patient_account,payer_id,member_id,patient_control_number,"
    "service_date,procedure_code,modifiers,units,charge,diagnoses,diagnosis_pointers"
)


@dataclass
class World:
    practice_npi: str
    payer_id: str
    account: str
    member_id: str


@pytest.fixture(scope="module")
def world(module_engine: Engine) -> World:
    """A practice whose billing provider, payer and patients match the 837 sample batch."""
    with session_scope(module_engine) as session:
        practice = make_practice(session)
        session.add(Provider(practice_id=practice.id or 0, role="billing", npi=BILLING.npi))
        session.add(Provider(practice_id=practice.id or 0, role="rendering", npi=DOCTOR.npi))
        payer = make_payer(session, payer_id="00435")
        patient = make_patient(session, practice, account_number="A100")
        make_coverage(session, patient, payer, member_id="W100000")
        return World(practice.npi, payer.payer_id, "A100", "W100000")


def _csv(world: World, rows: list[str]) -> bytes:
    prefix = f"{world.practice_npi},{world.account},{world.payer_id},{world.member_id}"
    return (HEADER + "\n" + "\n".join(f"{prefix},{r}" for r in rows) + "\n").encode()


@pytest.fixture
def engine(module_engine: Engine, world: World) -> Engine:
    """The module's database (imports commit: tests use their own claim numbers)."""
    return module_engine


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Claim)).one(),
            session.exec(select(func.count()).select_from(ClaimLine)).one(),
            session.exec(select(func.count()).select_from(Diagnosis)).one(),
        )


def _good_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,2026-10-01,99213,,1,125.00,E119 I10,1",
        f"{prefix}-1,2026-10-01,85025,,1,30.50,E119 I10,2",  # second line of the same claim
        f"{prefix}-2,2026-10-02,99214,25,1,180.00,J020,1",
    ]


def _delta(before: tuple[int, ...], after: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(b - a for a, b in zip(before, after, strict=True))


def test_csv_import_creates_claims_and_reimport_creates_nothing_twice(
    engine: Engine, world: World
) -> None:
    before = _counts(engine)
    report = import_claims(engine, data=_csv(world, _good_rows("OK")), actor="test")
    assert len(report.created) == 2 and report.skipped == []
    assert _delta(before, _counts(engine)) == (2, 3, 3)
    with Session(engine) as session:
        first = session.get(Claim, report.created[0])
        assert first is not None and str(first.total_charge) == "155.50"
        assert first.service_from == date(2026, 10, 1) and first.status == "draft"
        audited = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "claim.created",
                col(AuditEvent.claim_id).in_(report.created),
            )
        ).one()
        assert audited == 2
    again = import_claims(engine, data=_csv(world, _good_rows("OK")), actor="test")
    assert again.created == [] and sorted(again.skipped) == ["OK-1", "OK-2"]
    assert _delta(before, _counts(engine)) == (2, 3, 3)


BROKEN_ROWS = [
    ("B-3,2026-13-01,99213,,1,10.00,E119,1", "service_date"),
    ("B-3,2026-10-01,99213,,1,12.345,E119,1", "charge"),
    ("B-3,2026-10-01,99213,,1,-5,E119,1", "charge"),
    ("B-3,2026-10-01,99213,,1,NaN,E119,1", "charge"),
    ("B-3,2026-10-01,99213,,1,1e400,E119,1", "charge"),
    ("B-3,2026-10-01,99213,,1,100000000.00,E119,1", "charge"),
    ("B-3,2026-10-01,99213,,0,10.00,E119,1", "units"),
    ("B-3,2026-10-01,99213,,1,10.00,E119,x", "diagnosis_pointers"),
    ("B-3,2026-10-01,,,1,10.00,E119,1", "procedure_code"),
    ("B-3,2026-10-01,99213,,1,10.00,,1", "diagnoses"),
    ("B-3,2026-10-01,992,,1,10.00,E119,1", "procedure_code"),
    ("B-3,2026-10-01,99213,X!,1,10.00,E119,1", "modifiers"),
    ("B-3,2026-10-01,99213,,1,10.00,E1.1;DROP,1", "code"),
    ("B-1,2026-10-01,99213,,1,10.00,R509,1", "diagnoses"),  # disagrees with row 2's claim
    ("B-THAT-IS-FAR-TOO-LONG-FOR-CLM01,2026-10-01,99213,,1,10.00,E119,1", "patient"),
]


def test_csv_with_one_broken_row_imports_nothing_and_names_row_and_field(
    engine: Engine, world: World
) -> None:
    before = _counts(engine)
    for bad_row, field in BROKEN_ROWS:
        with pytest.raises(ImportRefused) as info:
            import_claims(engine, data=_csv(world, [*_good_rows("B"), bad_row]), actor="test")
        problems = info.value.problems
        assert [p.where for p in problems] == ["row 5"], (bad_row, problems)
        assert problems[0].field.startswith(field), (bad_row, problems)
        assert _counts(engine) == before, bad_row


def test_csv_unknown_references_are_each_reported_and_nothing_imported(
    engine: Engine, world: World
) -> None:
    before = _counts(engine)
    data = (
        _csv(world, _good_rows("U"))
        + (
            f"{world.practice_npi},A100,NOPAYER,W100000,U-4,2026-10-01,99213,,1,1.00,E119,1\n"
            f"{world.practice_npi},A100,{world.payer_id},W999,U-5,2026-10-01,99213,,1,1.00,E119,1\n"
            f"1234567893,A100,{world.payer_id},W100000,U-6,2026-10-01,99213,,1,1.00,E119,1\n"
        ).encode()
    )
    with pytest.raises(ImportRefused) as info:
        import_claims(engine, data=data, actor="test")
    assert [(p.where, p.field) for p in info.value.problems] == [
        ("row 5", "payer_id"),
        ("row 6", "member_id"),
        ("row 7", "practice_npi"),
    ]
    assert _counts(engine) == before


UNREADABLE = [
    (b"", "file", "file"),
    (b"practice_npi,foo\n", "row 1", "header"),
    (HEADER.encode() + b"\n", "file", "file"),
    (b"\xff\xfe\x00garbage", "file", "file"),
    (HEADER.encode() + b"\n1,2,3,4,5,6,7,8,9,10,11,12,13,14\n", "row 2", "row"),
    (HEADER.encode() + b'\n"unclosed,quote\n', "row 2", "row"),
]


def test_csv_unreadable_file_is_refused(engine: Engine, world: World) -> None:
    before = _counts(engine)
    for data, where, field in UNREADABLE:
        with pytest.raises(ImportRefused) as info:
            import_claims(engine, data=data, actor="test", file_format="csv")
        first = info.value.problems[0]
        assert (first.where, first.field) == (where, field), (data, info.value.problems)
    assert _counts(engine) == before


def test_837_import_all_claims_once(engine: Engine, world: World) -> None:
    before = _counts(engine)
    data = write_837(make_837_batch("P", 3))
    report = import_claims(engine, data=data, actor="test")
    assert len(report.created) == 3
    with Session(engine) as session:
        claims = [session.get(Claim, i) for i in report.created]
        assert [c.patient_control_number for c in claims if c] == ["PCN0", "PCN1", "PCN2"]
        assert all(c is not None and c.rendering_provider_id is not None for c in claims)
    again = import_claims(engine, data=data, actor="test")
    assert again.created == [] and len(again.skipped) == 3
    assert _delta(before, _counts(engine))[0] == 3


def test_837_with_a_broken_claim_imports_nothing_and_names_the_segment(
    engine: Engine, world: World
) -> None:
    before = _counts(engine)
    text = write_837(make_837_batch("P", 5)).decode()
    # The last claim's charge no longer matches its lines.
    head, sep, tail = text.rpartition("CLM*PCN4*")
    charge, _, rest = tail.partition("*")
    broken = f"{head}{sep}{int(float(charge)) + 7}*{rest}".encode()
    segment = text[: len(head)].count("~") + 1  # 1-based position of that CLM
    with pytest.raises(ImportRefused) as info:
        import_claims(engine, data=broken, actor="test")
    (problem,) = info.value.problems
    assert problem.where == f"segment {segment}", problem
    assert _counts(engine) == before


def test_837_claim_for_an_unknown_payer_imports_nothing(engine: Engine, world: World) -> None:
    before = _counts(engine)
    text = write_837(make_837_batch("P", 6)).decode().replace("*PI*00435~", "*PI*99999~")
    with pytest.raises(ImportRefused) as info:
        import_claims(engine, data=text.encode(), actor="test")
    assert {p.field for p in info.value.problems} == {"payer_id"}
    assert all(p.where.startswith("segment ") for p in info.value.problems)
    assert _counts(engine) == before


def test_cli_import_reports_problems_and_exit_code(
    cli_env: Settings, engine: Engine, world: World, tmp_path: Path
) -> None:
    before = _counts(engine)
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(world, [*_good_rows("C"), "C-3,2026-10-01,99213,,1,abc,E119,1"]))
    result = runner.invoke(app, ["claims", "import", str(bad)])
    assert result.exit_code == 2  # bad input
    assert "nothing was imported" in result.output and "row 5: charge" in result.output
    assert _counts(engine) == before
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(world, _good_rows("C")))
    result = runner.invoke(app, ["claims", "import", str(good)])  # as the OS account
    assert result.exit_code == 0, result.output
    assert "imported 2 claim(s); 0 already present" in result.output
    result = runner.invoke(app, ["claims", "import", str(good), "--format", "csv"])
    assert "imported 0 claim(s); 2 already present" in result.output
    assert _delta(before, _counts(engine))[0] == 2
