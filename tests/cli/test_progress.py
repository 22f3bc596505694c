"""Progress bars on long work (demo-data, claims import, statements run): on a terminal only.

Each command runs as its own process on a pseudo-terminal (what a person sees), and again
with pipes and with --json (what a script reads): the bar, and any escape code, only on
the terminal.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from tests.cli.demo import CLAIMDESK, DemoCli, cli_env

pytestmark = pytest.mark.slow
ESC = "\x1b["


def on_a_terminal(demo: DemoCli, *args: str, timeout: float = 180) -> tuple[int, str]:
    """`claimdesk ARGS` with stdin, stdout and stderr on a pseudo-terminal; (exit, output)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(CLAIMDESK), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**demo.env, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], timeout)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=timeout)
    finally:
        os.close(leader)
        process.kill()
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> DemoCli:
    """The demo practice (created on a terminal, checked below) and two patients who owe."""
    from claimdesk.db import make_engine, session_scope
    from claimdesk.settings import Settings
    from models import User
    from tests.billing.helpers import posted_claim

    data_dir = tmp_path_factory.mktemp("progress")
    demo = DemoCli(data_dir, cli_env(data_dir))
    assert demo.run("db", "upgrade").returncode == 0
    engine = make_engine(Settings(_env_file=None, data_dir=data_dir))
    with session_scope(engine) as session:
        session.add(User(username="lead9", role="lead", password_hash="x"))
        for trace in ("PRG1", "PRG2"):
            posted_claim(
                session, pay_date=f"{date.today() - timedelta(days=40):%Y%m%d}", trace=trace
            )
    engine.dispose()
    return demo


def test_demo_data_draws_a_bar_on_a_terminal_only(office: DemoCli) -> None:
    code, shown = on_a_terminal(office, "demo-data", "--claims", "40", "--seed", "2")
    assert code == 0, shown
    assert "demo claims" in shown and "/40" in shown and ESC in shown
    assert "40 claims created" in shown  # the summary stays once the bar is gone

    piped = office.run("demo-data", "--claims", "45", "--seed", "2")
    assert piped.returncode == 0, piped.stderr
    assert "5 claims created" in piped.stdout
    assert "demo claims" not in piped.stdout + piped.stderr
    assert ESC not in piped.stdout + piped.stderr

    code, shown = on_a_terminal(office, "demo-data", "--claims", "50", "--seed", "2", "--json")
    assert code == 0, shown
    assert "demo claims" not in shown and ESC not in shown
    assert json.loads(shown)["claims_created"] == 5


def _claims_csv(office: DemoCli, prefix: str, count: int) -> Path:
    from claimdesk.db import make_engine
    from claimdesk.settings import Settings
    from models import Coverage, Patient, Payer, Practice

    engine = make_engine(Settings(_env_file=None, data_dir=office.data_dir))
    with Session(engine) as session:
        patient, coverage, payer, practice = session.exec(
            sql_select(Patient, Coverage, Payer, Practice)
            .join(Coverage, col(Coverage.patient_id) == col(Patient.id))
            .join(Payer, col(Payer.id) == col(Coverage.payer_id))
            .join(Practice, col(Practice.id) == col(Patient.practice_id))
            .where(col(Coverage.effective_to).is_(None), Coverage.coverage_order == 1)
            .where(Practice.name == "Riverside Family Medicine")
        ).first()  # type: ignore[misc]
    engine.dispose()
    header = (
        "practice_npi,patient_account,payer_id,member_id,patient_control_number,"
        "service_date,procedure_code,modifiers,units,charge,diagnoses,diagnosis_pointers"
    )
    rows = [
        f"{practice.npi},{patient.account_number},{payer.payer_id},{coverage.member_id},"
        f"{prefix}-{n},{date.today() - timedelta(days=3 + n % 20)},99213,,1,125.00,E119,1"
        for n in range(count)
    ]
    path = office.data_dir / f"{prefix}.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_claims_import_draws_a_bar_on_a_terminal_only(office: DemoCli) -> None:
    on_a_terminal(office, "demo-data", "--claims", "1", "--seed", "2")  # the practice
    code, shown = on_a_terminal(office, "claims", "import", str(_claims_csv(office, "TTY", 30)))
    assert code == 0, shown
    assert "importing claims" in shown and "/30" in shown and ESC in shown
    assert "imported 30 claim(s)" in shown

    piped = office.run("claims", "import", str(_claims_csv(office, "PIPE", 30)))
    assert piped.returncode == 0, piped.stderr
    assert "imported 30 claim(s)" in piped.stdout
    assert ESC not in piped.stdout + piped.stderr and "importing" not in piped.stderr

    code, shown = on_a_terminal(
        office, "claims", "import", str(_claims_csv(office, "JSON", 3)), "--json"
    )
    assert code == 0, shown
    assert ESC not in shown and len(json.loads(shown)["created"]) == 3


def test_statements_run_draws_a_bar_on_a_terminal_only(office: DemoCli) -> None:
    as_of = date.today().isoformat()
    office.sign_in("lead9")
    piped = office.run("statements", "run", "--as-of", as_of, "--json")
    assert piped.returncode == 0, piped.stderr
    assert len(json.loads(piped.stdout)["statements"]) == 2  # the two who owe, by a script
    assert ESC not in piped.stdout + piped.stderr

    # A later cycle (the next month's): the same two, on a terminal.
    later = (date.today() + timedelta(days=31)).isoformat()
    code, shown = on_a_terminal(office, "statements", "run", "--as-of", later)
    assert code == 0, shown
    assert "statements" in shown and "/2" in shown and ESC in shown
    assert f"2 statement(s) for {later}" in shown
