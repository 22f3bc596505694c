"""`claimdesk demo-data`: fill the database with a believable synthetic practice."""

from __future__ import annotations

from dataclasses import asdict

import typer

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import print_json, progress_bar, shows_progress


def demo_data(
    claims: int = typer.Option(100, "--claims", min=0, help="How many draft claims to create."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same practice."),
    institutional: int = typer.Option(
        0,
        "--institutional",
        min=0,
        help="How many institutional (837I) claims to add: outpatient hospital and ASC.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Create the demo practice, payers, patients and draft claims (idempotent per seed)."""
    from claimdesk.demo.generate import generate_demo_practice

    with (
        progress_bar("demo claims", show=shows_progress(json_output)) as progress,
        cli_session() as session,
    ):
        summary = generate_demo_practice(
            session,
            claims=claims,
            seed=seed,
            progress=progress,
            institutional_claims=institutional,
        )
    if json_output:
        print_json(asdict(summary))
        return
    typer.echo(
        f"demo practice {summary.practice_id}: {summary.payers} payers, "
        f"{summary.patients} patients, {summary.claims_created} claims created "
        f"({summary.claims_skipped} already there), {summary.appointments} appointments"
    )
