"""An office brought in from files runs end to end against the real payer simulator.

A fresh SQLite data directory takes docs/examples/office.yaml, patients.csv and
bundle.json (no demo data, no Python config of the simulator); the simulator starts
knowing none of the office's payers or members and learns them from claimdesk's
coverages (``push_roster``). Then, at service level as the flows run them:
eligibility (270/271), scrub, batches, sending, acknowledgements (999/277CA).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.clock import today
from claimdesk.db import make_engine, session_scope
from claimdesk.eligibility.service import run_eligibility, select_coverages_to_check
from claimdesk.intake.fhir_bundle import import_bundle
from claimdesk.intake.office import import_office
from claimdesk.intake.patients import import_patients
from claimdesk.intake.sim_roster import push_roster
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.settings import Settings, get_settings
from claimdesk.stack import ProcessRef, StackInfo
from claimdesk.stack_procs import start_time
from claimdesk.submission.acknowledgements import retrieve_acknowledgements
from claimdesk.submission.service import (
    build_batches,
    mark_sent_claims,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from models import Claim, Coverage, Patient, ReviewTask

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples"
# The examples' claims are of November 2026: the simulator's clock stays where they are
# recent, so timely filing holds whenever the test runs.
SIM_DAY = date(2026, 11, 30)


@dataclass
class World:
    engine: Engine
    settings: Settings
    sim: str
    process: subprocess.Popen[bytes]

    def roster(self) -> dict[str, dict[str, Any]]:
        members = httpx.get(f"{self.sim}/admin/roster", timeout=10).json()
        return {m["member_id"]: m for m in members}


@pytest.fixture(scope="module")
def world(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("imported-office")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
    import_bundle(engine, data=(EXAMPLE / "bundle.json").read_bytes(), actor="tester")
    # The simulator's own defaults only: it has never heard of this office.
    url, process = start_payer_sim(tmp, seed=7, config={"clock_start": SIM_DAY.isoformat()})
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    try:
        yield World(engine, settings, url, process)
    finally:
        stop_payer_sim(process)
        engine.dispose()


def test_the_simulator_learns_payers_and_members_keeping_its_own_state(world: World) -> None:
    assert "1EG4TE5MK73" not in world.roster()

    pushed = push_roster(world.engine, world.sim)

    assert (pushed.payers, pushed.members) == (2, 21)  # SIMMCR is one of its defaults
    roster = world.roster()
    payers = {p["payer_id"] for p in httpx.get(f"{world.sim}/admin/payers", timeout=10).json()}
    assert {"SIMMCR", "SIMACM", "SIMBLU"} <= payers
    # Names as the X12 writers send them; a dependent is known by the subscriber's.
    assert (roster["1EG4TE5MK73"]["last_name"], roster["1EG4TE5MK73"]["first_name"]) == (
        "NUNEZ",
        "JOSE LUIS",
    )
    assert roster["ACM551903"]["last_name"] == "WANG"
    assert (roster["BLU7731288"]["first_name"], roster["BLU7731288"]["birth_date"]) == (
        "MAREK",
        "1981-08-03",
    )
    assert roster["BLU7731288"]["status"] == "active"
    # Benefit state the simulator has built up survives a later push.
    spent = {**roster["ACM448120"], "deductible_remaining": "120.00"}
    httpx.post(f"{world.sim}/admin/roster", json=[spent], timeout=10).raise_for_status()
    assert push_roster(world.engine, world.sim).members == 0
    with session_scope(world.engine) as session:
        patient = session.exec(select(Patient).where(Patient.account_number == "A10002")).one()
        coverage = session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).one()
        coverage.effective_to = date(2027, 6, 30)
        session.add(coverage)
    assert push_roster(world.engine, world.sim).members == 1
    member = world.roster()["ACM448120"]
    assert (member["coverage_end"], member["deductible_remaining"]) == ("2027-06-30", "120.00")


def test_the_imported_claims_are_verified_sent_and_acknowledged(world: World) -> None:
    push_roster(world.engine, world.sim)
    day = today(world.settings)
    assert day == SIM_DAY
    with session_scope(world.engine) as session:
        checks = select_coverages_to_check(
            session, today=day, horizon_days=3, recheck_days=30, limit=100
        )
    assert len(checks) == 20  # one coverage per claim

    eligibility = run_eligibility(world.engine, world.settings, checks, today=day)

    assert (eligibility.active, eligibility.held, eligibility.payer_errors) == (20, 0, 0)
    scrubbed = scrub_ready_claims(world.engine, today=day)
    with Session(world.engine) as session:
        tasks = [
            (t.kind, t.claim_id, t.context.get("rule") or t.context)
            for t in session.exec(select(ReviewTask)).all()
        ]
    assert scrubbed.review_task_ids == [], tasks
    build_batches(world.engine, world.settings)
    with Session(world.engine) as session:
        waiting = unsent_submissions(session)
    assert waiting
    for submission_id in waiting:
        send_built_submission(world.engine, world.settings, submission_id)
    mark_sent_claims(world.engine)
    retrieve_acknowledgements(world.engine, world.settings)

    with Session(world.engine) as session:
        statuses = {c.patient_control_number: c.status for c in session.exec(select(Claim)).all()}
    assert len(statuses) == 20
    assert set(statuses.values()) == {"accepted"}, statuses
    received = httpx.get(f"{world.sim}/admin/claims", timeout=10).json()
    assert {r["receipts"][0]["pcn"] for r in received} == set(statuses)


def test_an_import_beside_a_running_stack_tells_its_simulator(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_roster(world.engine, world.sim)
    # The data directory's stack record, as `claimdesk up` writes it: this process
    # supervises, the simulator process is its payer-sim.
    me, sim = os.getpid(), world.process.pid
    record = StackInfo(
        version="test",
        started_at="2026-11-30T08:00:00+00:00",
        data_dir=str(world.settings.data_dir),
        supervisor=ProcessRef(me, os.getpgrp(), start_time(me)),
        ports={},
        prefect_api_url="http://127.0.0.1:9/api",
        payer_sim_url=f"{world.sim}/core",
        ui_url=None,
        children={"payer-sim": ProcessRef(sim, sim, start_time(sim))},
    )
    (world.settings.data_dir / "stack.json").write_text(json.dumps(asdict(record)))
    rows = (EXAMPLE / "patients.csv").read_text().splitlines()
    new = rows[2].replace("A10002", "A10099").replace("MRN-20002", "MRN-20099")
    csv_path = tmp_path / "more.csv"
    csv_path.write_text("\n".join([rows[0], new.replace("ACM448120", "ACM999001")]) + "\n")
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["patients", "import", str(csv_path)])
    finally:
        get_settings.cache_clear()
        (world.settings.data_dir / "stack.json").unlink()

    assert result.exit_code == 0, result.output
    assert "payer simulator: 1 member(s) and 0 payer(s) added or brought up to date" in (
        result.output
    )
    assert world.roster()["ACM999001"]["last_name"] == "WISNIEWSKI"
