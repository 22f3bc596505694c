"""`claimdesk fhir import`: a FHIR R4 bundle's patients, coverages and Claims, all or nothing.

Every test imports into a new, migrated database of each backend (SQLite and
PostgreSQL) holding the example office (docs/examples/office.yaml).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine
from claimdesk.intake.fhir_bundle import import_bundle
from claimdesk.intake.office import import_office
from claimdesk.intake.patients import import_patients
from claimdesk.intake.problems import ImportRefused
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import (
    AuditEvent,
    Authorization,
    Claim,
    ClaimLine,
    Coverage,
    Diagnosis,
    Patient,
    Payer,
    Provider,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples"
TABLES = (Patient, Coverage, Claim, ClaimLine, Diagnosis, AuditEvent)
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
NPI = "http://hl7.org/fhir/sid/us-npi"
CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    yield engine
    engine.dispose()


def example() -> dict[str, Any]:
    return json.loads((EXAMPLE / "bundle.json").read_text())


def resource(bundle: dict[str, Any], reference: str) -> dict[str, Any]:
    kind, rid = reference.split("/")
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind and e["resource"]["id"] == rid
    )


def as_bytes(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, ensure_ascii=False).encode()


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in TABLES
        }


def import_example(engine: Engine) -> None:
    import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
    import_bundle(engine, data=(EXAMPLE / "bundle.json").read_bytes(), actor="tester")


def claim_by_pcn(session: Session, pcn: str) -> Claim:
    return session.exec(select(Claim).where(Claim.patient_control_number == pcn)).one()


def test_the_example_bundle_after_the_csv_adds_claims_and_no_patient(engine: Engine) -> None:
    import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
    before = counts(engine)

    report = import_bundle(engine, data=(EXAMPLE / "bundle.json").read_bytes(), actor="sam")

    # The bundle's 20 Patients are the CSV's (same record numbers): matched, not added.
    assert report.changes == [] and report.unchanged == 41
    assert len(report.claims_created) == 20 and report.claims_skipped == []
    after = counts(engine)
    assert (after["Patient"], after["Coverage"], after["Claim"]) == (20, 21, 20)
    assert after["AuditEvent"] == before["AuditEvent"] + 20  # claim.created, one each
    with Session(engine) as session:
        providers = {p.id: p.npi for p in session.exec(select(Provider)).all()}
        payers = {p.id: p.payer_id for p in session.exec(select(Payer)).all()}
        assert {c.status for c in session.exec(select(Claim)).all()} == {"draft"}
        # José Luis Nuñez's visit: three lines, two diagnoses, Dr Morales, Medicare.
        nunez = claim_by_pcn(session, "PCF-2611-0001")
        patient = session.get(Patient, nunez.patient_id)
        assert patient is not None and patient.account_number == "A10001"
        assert (nunez.kind, payers[nunez.payer_id], nunez.place_of_service) == ("P", "SIMMCR", "11")
        assert providers[nunez.billing_provider_id] == "1588123459"
        assert providers[nunez.rendering_provider_id or 0] == "1744012349"
        assert nunez.total_charge == Decimal("235.00")
        lines = session.exec(
            select(ClaimLine)
            .where(ClaimLine.claim_id == nunez.id)
            .order_by(col(ClaimLine.line_number))
        ).all()
        assert [(ln.procedure_code, ln.charge, ln.diagnosis_pointers) for ln in lines] == [
            ("99214", Decimal("185.00"), [1, 2]),
            ("36415", Decimal("12.00"), [1, 2]),
            ("80053", Decimal("38.00"), [1, 2]),
        ]
        codes = session.exec(
            select(Diagnosis.code)
            .where(Diagnosis.claim_id == nunez.id)
            .order_by(col(Diagnosis.position))
        ).all()
        assert codes == ["E119", "I10"]
        # Modifiers, units and the authorization the CSV brought in.
        dvorak = claim_by_pcn(session, "PCF-2611-0017")
        lines = session.exec(
            select(ClaimLine)
            .where(ClaimLine.claim_id == dvorak.id)
            .order_by(col(ClaimLine.line_number))
        ).all()
        assert [(ln.procedure_code, ln.modifiers) for ln in lines] == [
            ("99214", ["25"]),
            ("71046", []),
        ]
        auth = session.exec(select(Authorization)).one()
        assert dvorak.authorization_id == auth.id
        thompson = claim_by_pcn(session, "PCF-2611-0016")
        therapy = session.exec(
            select(ClaimLine).where(
                ClaimLine.claim_id == thompson.id, ClaimLine.procedure_code == "97110"
            )
        ).one()
        assert (therapy.units, therapy.modifiers, therapy.charge) == (
            Decimal(2),
            ["GP"],
            Decimal("120.00"),
        )
        # The dependent's claim bills the parent's coverage.
        kowalczyk = claim_by_pcn(session, "PCF-2611-0010")
        coverage = session.get(Coverage, kowalczyk.coverage_id)
        assert coverage is not None and coverage.relationship == "child"


def test_importing_the_same_bundle_again_creates_nothing(engine: Engine) -> None:
    import_example(engine)
    before = counts(engine)

    again = import_bundle(engine, data=(EXAMPLE / "bundle.json").read_bytes(), actor="tester")

    assert again.changes == [] and again.claims_created == [] and len(again.claims_skipped) == 20
    assert counts(engine) == before


def transaction_bundle() -> dict[str, Any]:
    """A new patient (a child on a parent's plan) with a professional and an institutional Claim."""

    def entry(kind: str, body: dict[str, Any], uuid: str) -> dict[str, Any]:
        return {
            "fullUrl": f"urn:uuid:{uuid}",
            "resource": {"resourceType": kind, **body},
            "request": {"method": "POST", "url": kind},
        }

    ref = lambda uuid: {"reference": f"urn:uuid:{uuid}"}  # noqa: E731
    claim_common = {
        "status": "active",
        "use": "claim",
        "patient": ref("p"),
        "created": "2026-11-30",
        "provider": ref("org"),
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("cov")}],
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "J02.9"}]},
            }
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            entry("Organization", {"identifier": [{"system": NPI, "value": "1588123459"}]}, "org"),
            entry(
                "Organization",
                {
                    "identifier": [
                        {"type": {"coding": [{"system": V2, "code": "NIIP"}]}, "value": "SIMBLU"}
                    ]
                },
                "blu",
            ),
            entry(
                "Practitioner", {"identifier": [{"system": NPI, "value": "1386922037"}]}, "becker"
            ),
            entry(
                "Patient",
                {
                    "identifier": [
                        {"type": {"coding": [{"system": V2, "code": "MR"}]}, "value": "MRN-9001"}
                    ],
                    "name": [{"family": "Wiśniewska", "given": ["Zuzanna"]}],
                    "birthDate": "2016-04-09",
                    "gender": "female",
                    "managingOrganization": ref("org"),
                },
                "p",
            ),
            entry(
                "RelatedPerson",
                {
                    "patient": ref("p"),
                    "name": [{"family": "Wiśniewski", "given": ["Łukasz"]}],
                    "birthDate": "1979-07-02",
                },
                "mother",
            ),
            entry(
                "Coverage",
                {
                    "status": "active",
                    "beneficiary": ref("p"),
                    "subscriber": ref("mother"),
                    "subscriberId": "BLU9000001",
                    "relationship": {"coding": [{"code": "child"}]},
                    "period": {"start": "2025-01-01"},
                    "payor": [ref("blu")],
                },
                "cov",
            ),
            entry(
                "Claim",
                {
                    **claim_common,
                    "identifier": [{"value": "TX-P-1"}],
                    "type": {"coding": [{"code": "professional"}]},
                    "careTeam": [{"sequence": 1, "provider": ref("becker")}],
                    "item": [
                        {
                            "sequence": 1,
                            "productOrService": {"coding": [{"system": CPT, "code": "99213"}]},
                            "servicedDate": "2026-11-20",
                            "unitPrice": {"value": 125, "currency": "USD"},
                        },
                    ],
                },
                "claim-p",
            ),
            entry(
                "Claim",
                {
                    **claim_common,
                    "identifier": [{"value": "TX-I-1"}],
                    "type": {"coding": [{"code": "institutional"}]},
                    "billablePeriod": {"start": "2026-11-21", "end": "2026-11-21"},
                    "supportingInfo": [
                        {
                            "sequence": 1,
                            "category": {"coding": [{"code": "typeofbill"}]},
                            "code": {"coding": [{"code": "0131"}]},
                        }
                    ],
                    "item": [
                        {
                            "sequence": 1,
                            "revenue": {"coding": [{"code": "0450"}]},
                            "productOrService": {"coding": [{"system": CPT, "code": "99283"}]},
                            "net": {"value": 410.5},
                        },
                        {
                            "sequence": 2,
                            "revenue": {"coding": [{"code": "0300"}]},
                            "productOrService": {"coding": [{"system": CPT, "code": "85025"}]},
                            "quantity": {"value": 1},
                            "unitPrice": {"value": 31.25},
                        },
                    ],
                    "total": {"value": 441.75},
                },
                "claim-i",
            ),
        ],
    }


def test_a_transaction_bundle_creates_the_patient_coverage_and_both_kinds_of_claim(
    engine: Engine,
) -> None:
    report = import_bundle(engine, data=as_bytes(transaction_bundle()), actor="tester")

    assert (report.count("patient", "created"), report.count("coverage", "created")) == (1, 1)
    assert len(report.claims_created) == 2
    with Session(engine) as session:
        patient = session.exec(select(Patient)).one()
        # No account number given: the medical record number is the account too.
        assert (patient.last_name, patient.account_number, patient.medical_record_number) == (
            "Wiśniewska",
            "MRN-9001",
            "MRN-9001",
        )
        coverage = session.exec(select(Coverage)).one()
        assert (coverage.relationship, coverage.subscriber_last_name, coverage.member_id) == (
            "child",
            "Wiśniewski",
            "BLU9000001",
        )
        professional = claim_by_pcn(session, "TX-P-1")
        institutional = claim_by_pcn(session, "TX-I-1")
        assert (professional.kind, professional.total_charge) == ("P", Decimal("125.00"))
        assert (institutional.kind, institutional.facility_type_code) == ("I", "13")
        assert institutional.total_charge == Decimal("441.75")
        lines = session.exec(
            select(ClaimLine)
            .where(ClaimLine.claim_id == institutional.id)
            .order_by(col(ClaimLine.line_number))
        ).all()
        assert [(ln.revenue_code, ln.procedure_code, str(ln.service_date)) for ln in lines] == [
            ("0450", "99283", "2026-11-21"),
            ("0300", "85025", "2026-11-21"),
        ]


def test_a_bundle_with_a_bad_coverage_is_refused_whole_naming_it(engine: Engine) -> None:
    bundle = example()
    acme = resource(bundle, "Organization/payer-simacm")
    acme["identifier"][0]["type"]["coding"][0]["code"] = "XX"  # no NIIP: no payer id
    del resource(bundle, "Coverage/cov-05-1")["period"]
    resource(bundle, "Coverage/cov-12-1")["order"] = "first"  # not a positiveInt
    before = counts(engine)

    with pytest.raises(ImportRefused) as refused:
        import_bundle(engine, data=as_bytes(bundle), actor="tester")

    problems = {(p.where, p.field) for p in refused.value.problems}
    assert ("Coverage/cov-05-1", "period.start") in problems
    assert ("Coverage/cov-12-1", "order") in problems
    assert ("Coverage/cov-02-1", "payor") in problems  # every Acme coverage, by its own id
    assert all(where.startswith(("Coverage/", "Claim/")) for where, _ in problems)
    acme_reason = next(p.reason for p in refused.value.problems if p.where == "Coverage/cov-02-1")
    assert "Organization/payer-simacm" in acme_reason and "NIIP" in acme_reason
    assert counts(engine) == before  # nothing of the bundle is stored


def test_what_a_claim_cannot_take_is_named_by_its_element(engine: Engine) -> None:
    bundle = example()
    resource(bundle, "Claim/claim-03")["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0][
        "system"
    ] = "http://hl7.org/fhir/sid/icd-9-cm"
    resource(bundle, "Claim/claim-04")["item"][1]["productOrService"]["coding"][0]["system"] = (
        "http://snomed.info/sct"
    )
    resource(bundle, "Claim/claim-06")["item"][0]["net"]["value"] = 999  # ≠ unitPrice × quantity
    resource(bundle, "Practitioner/pract-becker")["identifier"][0]["value"] = "1234567893"
    bundle["entry"].append(
        {"resource": {"resourceType": "Encounter", "id": "enc-1", "status": "finished"}}
    )

    with pytest.raises(ImportRefused) as refused:
        import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
        import_bundle(engine, data=as_bytes(bundle), actor="tester")

    problems = {(p.where, p.field) for p in refused.value.problems}
    assert problems >= {
        ("Claim/claim-03", "diagnosis[0].diagnosisCodeableConcept"),
        ("Claim/claim-04", "item[1].productOrService"),
        ("Claim/claim-06", "item[0].net"),
        ("Encounter/enc-1", "resourceType"),
    }
    # Read problems refuse before the database is asked; with them fixed, it answers too.
    bundle["entry"].pop()
    clean = example()
    resource(clean, "Practitioner/pract-becker")["identifier"][0]["value"] = "1234567893"
    with pytest.raises(ImportRefused) as refused:
        import_bundle(engine, data=as_bytes(clean), actor="tester")
    assert {(p.where, p.field) for p in refused.value.problems} == {
        (f"Claim/claim-{n:02d}", "careTeam.provider") for n in (2, 4, 6, 9, 10, 12, 14, 15, 18, 20)
    }
    assert counts(engine)["Claim"] == 0


def test_a_changed_patient_is_updated_in_place_never_duplicated(engine: Engine) -> None:
    import_example(engine)
    bundle = example()
    patient = resource(bundle, "Patient/pat-02")
    patient["telecom"][0]["value"] = "217.555.0100"
    patient["address"][0]["line"] = ["17 Fairview Pl", "Apt 2"]
    patient["identifier"][1]["value"] = "B20002"  # a new account number; the same record
    with Session(engine) as session:
        original = session.exec(
            select(Patient).where(Patient.medical_record_number == "MRN-20002")
        ).one()
    before = counts(engine)

    report = import_bundle(engine, data=as_bytes(bundle), actor="lee")

    assert [(c.entity, c.where, c.fields) for c in report.changes] == [
        ("patient", "Patient/pat-02", ("account_number", "address_line1", "address_line2", "phone"))
    ]
    assert counts(engine) == {**before, "AuditEvent": before["AuditEvent"] + 1}
    with Session(engine) as session:
        row = session.get(Patient, original.id)
        assert row is not None
        assert (row.account_number, row.address_line2, row.phone) == (
            "B20002",
            "Apt 2",
            "2175550100",
        )
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.updated")).one()
        assert (event.actor, event.entity_id) == ("lee", str(original.id))
        assert "Fairview" not in json.dumps(event.details) and "B20002" not in json.dumps(
            event.details
        )


def test_bundle_envelopes_that_are_not_taken(engine: Engine) -> None:
    searchset = {**example(), "type": "searchset"}
    deleting = transaction_bundle()
    deleting["entry"][3]["request"] = {"method": "DELETE", "url": "Patient/x"}
    cases = [
        (b"{not json", ("file", "file")),
        (b'{"resourceType": "Patient"}', ("file", "resourceType")),
        (as_bytes(searchset), ("Bundle", "type")),
        (as_bytes(deleting), ("entry[3] (Patient)", "request.method")),
    ]
    for data, expected in cases:
        with pytest.raises(ImportRefused) as refused:
            import_bundle(engine, data=data, actor="tester")
        assert expected in {(p.where, p.field) for p in refused.value.problems}, data[:40]
    assert counts(engine)["Patient"] == 0


@pytest.fixture
def cli_env(
    engine: Engine, fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_settings
    get_settings.cache_clear()


def test_the_command_reports_and_refuses(cli_env: Settings, engine: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["patients", "import", str(EXAMPLE / "patients.csv")]).exit_code == 0

    result = runner.invoke(app, ["fhir", "import", str(EXAMPLE / "bundle.json")])

    assert result.exit_code == 0, result.output
    assert "claims          20 draft claim(s) created, 0 already imported" in result.output
    again = runner.invoke(app, ["fhir", "import", str(EXAMPLE / "bundle.json"), "--json"])
    assert again.exit_code == 0 and len(json.loads(again.stdout)["claims_skipped"]) == 20
    bad = copy.deepcopy(example())
    del resource(bad, "Coverage/cov-07-1")["subscriberId"]
    path = tmp_path / "bad.json"
    path.write_bytes(as_bytes(bad))
    refused = runner.invoke(app, ["fhir", "import", str(path)])
    assert refused.exit_code == 2
    assert "Coverage/cov-07-1: subscriberId: empty" in refused.stderr
    assert "Traceback" not in refused.output
    as_json = runner.invoke(app, ["fhir", "import", str(path), "--json"])
    assert json.loads(as_json.stdout)["problems"][0]["where"] == "Coverage/cov-07-1"
