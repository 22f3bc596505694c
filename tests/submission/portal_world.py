"""An office that works through portals: the demo practice, its claims ready, two people.

Used by the export and acks tests (tests/submission/test_export.py) and the 835 file
tests (tests/remittance/test_file_import.py). The command line runs as its own process
against the world's database (SQLite or PostgreSQL, from tests/conftest.py's
``databases``) and document store.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from claimdesk.claims.moves import set_claim_status
from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import Claim, ClaimLine, Coverage, User
from tests.cli.demo import CLAIMDESK, cli_env
from tests.denials.builders_835 import Clp, Svc

SPECIALIST = "sam"
AUDITOR = "ada"


@dataclass
class PortalWorld:
    engine: Engine
    settings: Settings
    folder: Path  # where the files a person handles go
    env: dict[str, str]
    today: date

    def cli(self, *args: str, process: bool = False) -> tuple[int, str, str]:
        """`claimdesk ARGS` against this world: (exit code, stdout, stderr).

        In this process through the same click tree (a fresh interpreter costs seconds of
        imports on a shared machine), or with ``process`` as the installed console script.
        """
        if process:
            done = subprocess.run(
                [str(CLAIMDESK), *args], capture_output=True, text=True, env=self.env, timeout=240
            )
            return done.returncode, done.stdout, done.stderr
        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.startswith(("CLAIMDESK_", "PREFECT_"))]:
                patch.delenv(name)
            for name, value in self.env.items():
                if name.startswith("CLAIMDESK_"):
                    patch.setenv(name, value)
            get_settings.cache_clear()
            try:
                result = CliRunner().invoke(app, list(args))
            finally:
                get_settings.cache_clear()
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    def sign_in(self, username: str) -> None:
        """The next commands act as ``username`` (what `claimdesk login` leaves behind)."""
        from tests.conftest import sign_in_cli

        sign_in_cli(self.settings, username)

    def cli_json(self, *args: str, process: bool = False) -> tuple[int, Any, str]:
        """(exit code, the JSON printed or None, stderr)."""
        code, stdout, stderr = self.cli(*args, "--json", process=process)
        assert "Traceback" not in stdout + stderr, stderr
        return code, json.loads(stdout) if stdout.strip() else None, stderr


def make_portal_world(settings: Settings, folder: Path, *, claims: int = 10) -> PortalWorld:
    """Migrate and fill a database: ``claims`` demo claims, all ready; a specialist, an auditor."""
    engine = make_engine(settings)
    upgrade_database(engine)
    today = datetime.now(UTC).date()
    with session_scope(engine) as session:
        # One patient a claim: a member the simulator does not know rejects one claim only.
        generate_demo_practice(session, claims=claims, seed=11, today=today, patients=claims)
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None  # every visit covered: the claims go out
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
        for username, role in ((SPECIALIST, "specialist"), (AUDITOR, "auditor")):
            session.add(
                User(username=username, role=role, display_name=username, password_hash="x")
            )
    env = cli_env(settings.data_dir)
    if settings.database_url is not None:
        env["CLAIMDESK_DATABASE_URL"] = settings.database_url.get_secret_value()
    return PortalWorld(engine, settings, folder, env, today)


def claims_by_payer(engine: Engine) -> dict[str, list[int]]:
    """Claim ids per payer EDI id."""
    from models import Payer

    with Session(engine) as session:
        rows = session.exec(
            select(Payer.payer_id, Claim.id)
            .join(Claim, col(Claim.payer_id) == col(Payer.id))
            .order_by(col(Claim.id))
        ).all()
    found: dict[str, list[int]] = {}
    for payer_id, claim_id in rows:
        found.setdefault(payer_id, []).append(claim_id or 0)
    return found


def paid_clp(session: Session, claim_id: int, *, paid_share: Decimal = Decimal("0.80")) -> Clp:
    """A CLP paying ``paid_share`` of each line, the rest written off as CO-45 (balanced)."""
    claim = session.get(Claim, claim_id)
    assert claim is not None
    lines = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim_id).order_by(col(ClaimLine.line_number))
    ).all()
    services = []
    for line in lines:
        paid = (line.charge * paid_share).quantize(Decimal("0.01"))
        services.append(
            Svc(
                line.procedure_code,
                f"{line.charge:.2f}",
                f"{paid:.2f}",
                cas={"CO": (("45", f"{line.charge - paid:.2f}"),)},
                ref=line.line_control_number,
                units=f"{line.units.normalize():f}",
            )
        )
    total_paid = sum((Decimal(s.paid) for s in services), Decimal(0))
    return Clp(
        claim.patient_control_number,
        "1",
        f"{claim.total_charge:.2f}",
        f"{total_paid:.2f}",
        services=tuple(services),
        payer_claim=f"PCLM{claim_id}",
    )
