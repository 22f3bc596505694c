"""`claimdesk claims void|replace` as its own process: exit codes 0/1/2 and --json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.settings import Settings
from models import AuditEvent, Claim, Payer, User
from tests.cli.demo import DemoCli, cli_env


def test_void_and_replace_commands(tmp_path: Path) -> None:
    cli = DemoCli(tmp_path, cli_env(tmp_path))
    assert cli.run("db", "upgrade").returncode == 0
    engine = make_engine(Settings(_env_file=None, data_dir=tmp_path))
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=8, seed=3, today=date(2026, 11, 2))
        session.add(User(username="lee", role="lead", password_hash="x"))
        session.add(User(username="sam", role="specialist", password_hash="x"))
        ids = []
        takes_replacements = (
            select(Claim)
            .join(Payer, col(Payer.id) == col(Claim.payer_id))
            .where(col(Payer.accepts_replacement_claims))
            .order_by(col(Claim.id))
            .limit(2)
        )
        for claim in session.exec(takes_replacements).all():
            for step in ("ready", "queued", "sent", "paid"):
                set_claim_status(session=session, claim=claim, status=step, actor="test")
            claim.payer_claim_number = f"PC{claim.id}"
            ids.append(claim.id or 0)
        assert len(ids) == 2
    try:
        cli.sign_in("lee")
        voided = cli.run("claims", "void", str(ids[0]), "--reason", "dup", "--json")
        assert voided.returncode == 0, voided.stderr
        assert json.loads(voided.stdout) == {
            "id": ids[0],
            "version": 2,
            "frequency_code": "8",
            "original_payer_claim_number": f"PC{ids[0]}",
            "status": "queued",
        }
        # Voided again: it is queued, not adjudicated (bad input, exit 2), nothing changes.
        again = cli.run("claims", "void", str(ids[0]), "--reason", "dup")
        assert again.returncode == 2 and "only an adjudicated claim" in again.stderr
        # A specialist may replace but not void; nobody signed in is refused (exit 1).
        cli.sign_in("sam")
        refused = cli.run("claims", "void", str(ids[1]), "--reason", "x")
        assert refused.returncode == 1 and "may not claim.void" in refused.stderr
        assert cli.run("login", "--logout").returncode == 0
        nobody = cli.run("claims", "replace", str(ids[1]), "--reason", "x")
        assert nobody.returncode == 1 and "sign in with `claimdesk login`" in nobody.stderr
        cli.sign_in("sam")
        replaced = cli.run("claims", "replace", str(ids[1]), "--reason", "typo")
        assert replaced.returncode == 0, replaced.stderr
        assert "replacement (frequency 7)" in replaced.stdout
        with session_scope(engine) as session:
            second = session.get(Claim, ids[1])
            assert second is not None
            assert (second.frequency_code, second.version, second.status) == ("7", 2, "queued")
            refusals = session.exec(
                select(AuditEvent.actor).where(AuditEvent.action == "access.refused")
            ).all()
            assert {"sam", "cli:anonymous"} <= set(refusals)
    finally:
        engine.dispose()
