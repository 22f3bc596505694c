"""`claimdesk demo-data`: fill the database with a believable synthetic practice."""

from __future__ import annotations

import typer

from claimdesk.cli._context import cli_session
from claimdesk.demo.generate import generate_demo_practice


def demo_data(
    claims: int = typer.Option(100, "--claims", min=0, help="How many draft claims to create."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same practice."),
) -> None:
    """Create the demo practice, payers, patients and draft claims (idempotent per seed)."""
    with cli_session() as session:
        summary = generate_demo_practice(session, claims=claims, seed=seed)
    typer.echo(
        f"demo practice {summary.practice_id}: {summary.payers} payers, "
        f"{summary.patients} patients, {summary.claims_created} claims created "
        f"({summary.claims_skipped} already there), {summary.appointments} appointments"
    )
