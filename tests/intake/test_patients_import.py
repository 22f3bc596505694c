"""`claimdesk patients import`: the example roster, re-imports, updates in place, refusals.

Every test imports into a new, migrated database of each backend (SQLite and
PostgreSQL) holding the example office, through the real engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from claimdesk.db import make_engine
from claimdesk.intake.office import import_office
from claimdesk.intake.patients import import_patients
from claimdesk.intake.problems import ImportRefused
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import AuditEvent, Authorization, Coverage, Patient, Payer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples"
TABLES = (Patient, Coverage, Authorization, AuditEvent)


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    yield engine
    engine.dispose()


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    target = tmp_path / "patients.csv"
    shutil.copy(EXAMPLE / "patients.csv", target)
    return target


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in TABLES
        }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def row_of(path: Path, text: str) -> str:
    """ "row N" of the only CSV line holding ``text`` (the header is row 1)."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return f"row {found[0]}"


def patient(session: Session, account: str) -> Patient:
    return session.exec(select(Patient).where(Patient.account_number == account)).one()


def test_the_example_roster_comes_in_whole(engine: Engine) -> None:
    before = counts(engine)["AuditEvent"]

    report = import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="spatel")

    assert counts(engine) == {
        "Patient": 20,
        "Coverage": 21,  # one patient has a secondary
        "Authorization": 1,
        "AuditEvent": before + 42,  # one per row created
    }
    assert (report.count("patient", "created"), report.unchanged) == (20, 0)
    with Session(engine) as session:
        payers = {p.id: p.payer_id for p in session.exec(select(Payer)).all()}
        # Names and addresses as written, in any alphabet.
        assert (patient(session, "A10001").last_name, patient(session, "A10001").first_name) == (
            "Nuñez",
            "José Luis",
        )
        assert patient(session, "A10004").last_name == "王"
        assert patient(session, "A10003").first_name == "Þórunn"
        assert patient(session, "A10018").last_name == "السيد"
        nunez = patient(session, "A10001")
        assert (nunez.medical_record_number, nunez.phone, nunez.postal_code, nunez.gender) == (
            "MRN-20001",
            "2175550141",
            "62522",
            "M",
        )
        # Medicare first, Medigap second.
        muller = patient(session, "A10008")
        covers = session.exec(select(Coverage).where(Coverage.patient_id == muller.id)).all()
        assert sorted((payers[c.payer_id], c.coverage_order) for c in covers) == [
            ("SIMBLU", 2),
            ("SIMMCR", 1),
        ]
        # A child on a parent's plan names the subscriber.
        zofia = patient(session, "A10010")
        child = session.exec(select(Coverage).where(Coverage.patient_id == zofia.id)).one()
        assert (child.relationship, child.subscriber_first_name, child.subscriber_birth_date) == (
            "child",
            "Marek",
            date(1981, 8, 3),
        )
        auth = session.exec(select(Authorization)).one()
        assert (auth.patient_id, auth.kind, auth.codes, auth.units) == (
            patient(session, "A10017").id,
            "prior_auth",
            ["71046"],
            1,
        )
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "patient.created")
        ).all()
        assert len(events) == 20 and {e.actor for e in events} == {"spatel"}
        assert "last_name" in events[0].details["fields"]
        trail = json.dumps([e.details for e in events])
        assert "Nuñez" not in trail and "1948" not in trail and "MRN-20001" not in trail


def test_importing_the_same_file_again_creates_nothing(engine: Engine) -> None:
    data = (EXAMPLE / "patients.csv").read_bytes()
    import_patients(engine, data=data, actor="tester")
    before = counts(engine)

    again = import_patients(engine, data=data, actor="tester")

    assert again.changes == [] and again.unchanged == 42
    assert counts(engine) == before  # no row and no audit event added


def test_a_changed_patient_is_updated_in_place_and_audited(engine: Engine, csv_path: Path) -> None:
    import_patients(engine, data=csv_path.read_bytes(), actor="tester")
    with Session(engine) as session:
        original = patient(session, "A10002")
    edit(csv_path, "92 Oakland Ave,,Decatur,IL,62521,217-555-0172",
         "17 Fairview Pl,Apt 2,Decatur,IL,62522-1130,(217) 555-0199")  # fmt: skip
    edit(csv_path, "A10009,MRN-20009", "B20009,MRN-20009")  # a new account, the same record
    before = counts(engine)

    report = import_patients(engine, data=csv_path.read_bytes(), actor="jortiz")

    assert {(c.entity, c.where, c.fields) for c in report.changes} == {
        (
            "patient",
            row_of(csv_path, "17 Fairview"),
            ("address_line1", "address_line2", "phone", "postal_code"),
        ),
        ("patient", row_of(csv_path, "B20009"), ("account_number",)),
    }
    assert counts(engine) == {**before, "AuditEvent": before["AuditEvent"] + 2}
    with Session(engine) as session:
        moved = patient(session, "A10002")
        assert moved.id == original.id
        assert (moved.address_line1, moved.address_line2, moved.postal_code, moved.phone) == (
            "17 Fairview Pl",
            "Apt 2",
            "625221130",
            "2175550199",
        )
        renumbered = session.exec(
            select(Patient).where(Patient.medical_record_number == "MRN-20009")
        ).one()
        assert renumbered.account_number == "B20009"
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "patient.updated", AuditEvent.entity_id == str(original.id)
            )
        ).one()
        assert event.actor == "jortiz"
        assert event.details["fields"] == ["address_line1", "address_line2", "phone", "postal_code"]
        assert "Fairview" not in json.dumps(event.details)


def test_a_file_with_problems_is_refused_whole_naming_row_and_field(
    engine: Engine, csv_path: Path
) -> None:
    edit(csv_path, ",1979-07-02,M,", ",1979-02-30,M,")  # no such day
    edit(csv_path, "A10003,MRN-20003,Guðmundsdóttir,Þórunn,1985-11-23,F",
         "A10003,MRN-20003,Guðmundsdóttir,Þórunn,1985-11-23,X")  # fmt: skip
    edit(csv_path, "SIMACM,ACM551903", "NOPAYR,ACM551903")
    edit(csv_path, ",2016-01-01,,primary", ",,,primary")  # a coverage without its start
    edit(csv_path, "2026-11-15,2027-02-15", "2026-11-15,someday")

    with pytest.raises(ImportRefused) as refused:
        import_patients(engine, data=csv_path.read_bytes(), actor="tester")

    assert {(p.where, p.field) for p in refused.value.problems} == {
        (row_of(csv_path, "1979-02-30"), "birth_date"),
        (row_of(csv_path, "A10003"), "sex"),
        (row_of(csv_path, "NOPAYR"), "payer_id"),
        (row_of(csv_path, "A10005"), "effective_from"),
        (row_of(csv_path, "someday"), "authorization_to"),
    }
    # Never the value: the reason says what is wrong, not what was written.
    assert "1979-02-30" not in str(refused.value) and "NOPAYR" not in str(refused.value)
    stored = counts(engine)
    assert stored["Patient"] == stored["Coverage"] == stored["Authorization"] == 0


def test_rows_of_one_patient_must_agree_and_a_record_number_is_one_patient(
    engine: Engine, csv_path: Path
) -> None:
    lines = csv_path.read_text().splitlines()
    muller = [n for n, line in enumerate(lines) if "A10008" in line]
    lines[muller[1]] = lines[muller[1]].replace("Jürgen", "Juergen")
    lines.append(lines[1].replace("A10001", "A10099"))  # another account, the same MRN
    csv_path.write_text("\n".join(lines) + "\n")

    with pytest.raises(ImportRefused) as refused:
        import_patients(engine, data=csv_path.read_bytes(), actor="tester")

    problems = {(p.where, p.field, p.reason) for p in refused.value.problems}
    assert problems == {
        (
            f"row {muller[1] + 1}",
            "first_name",
            f"differs from row {muller[0] + 1} of the same patient",
        ),
        (f"row {len(lines)}", "medical_record_number", "the same medical record number as row 2"),
    }
    assert counts(engine)["Patient"] == 0


def test_the_command_line_in_a_real_process(databases: Any, tmp_path: Path) -> None:
    settings = databases.settings("sqlite", tmp_path)  # one real process is enough
    env = {**os.environ, "CLAIMDESK_DATA_DIR": str(settings.data_dir)}
    env.pop("CLAIMDESK_DATABASE_URL", None)
    claimdesk = str(Path(sys.executable).parent / "claimdesk")
    command = [claimdesk, "patients", "import", "docs/examples/patients.csv"]
    # A data directory whose database was never created: said so, with what to run.
    empty = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert "create or upgrade it with `claimdesk db upgrade`" in empty.stderr
    engine = make_engine(settings)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")

    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    again = subprocess.run(
        [*command, "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    assert first.returncode == 0, first.stderr
    assert "patients        20 created, 0 updated" in first.stdout
    assert "coverages       21 created, 0 updated" in first.stdout
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == 42
    bad = subprocess.run(
        [claimdesk, "patients", "import", "docs/examples/bundle.json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2  # the input is refused (exit 2), as claims import does
    assert "nothing was imported" in bad.stderr and "Traceback" not in bad.stderr
    assert counts(engine)["Patient"] == 20
    engine.dispose()
