"""`claimdesk statements`: run the statement cycle (PDFs to the store, and to --out)."""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.cli._billing import acting_user, parse_day
from claimdesk.cli._context import cli_session, load_settings
from claimdesk.cli._utilities import exit_with_error, print_json, progress_bar, shows_progress
from claimdesk.errors import ClaimdeskError

# claimdesk.billing.statements.DEFAULT_CYCLE_DAYS (a test keeps them equal), for the option.
DEFAULT_CYCLE_DAYS = 30

app = typer.Typer(help="Patient statements.", no_args_is_help=True)


@app.command("run")
def run(
    out: Path | None = typer.Option(None, "--out", help="Also write each PDF to this folder."),
    as_of: str | None = typer.Option(None, "--as-of", help="Statement date; default today."),
    cycle_days: int = typer.Option(
        DEFAULT_CYCLE_DAYS,
        "--cycle-days",
        min=1,
        max=366,
        help="Days since a patient's last statement before the next one is due.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A statement for every patient who owes and had none in the last cycle."""
    from claimdesk.billing.statements import run_statement_cycle, statement_pdf
    from claimdesk.documents import make_document_store

    day = parse_day(as_of, "--as-of")
    store = make_document_store(load_settings())
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            exit_with_error(f"--out {str(out)!r} cannot be created: {exc.strerror}")
    written: list[str] = []
    try:
        with (
            progress_bar("statements", show=shows_progress(json_output)) as progress,
            cli_session() as session,
        ):
            actor = acting_user(session, "statements run")
            results = run_statement_cycle(
                session,
                as_of=day,
                store=store,
                cycle_days=cycle_days,
                user=actor,
                progress=progress,
            )
            if out is not None:
                for r in results:
                    path = out / f"statement-{r.statement_id}.pdf"
                    path.write_bytes(
                        statement_pdf(session, store=store, statement_id=r.statement_id, user=actor)
                    )
                    written.append(str(path))
    except ClaimdeskError as exc:
        exit_with_error(exc)
    rows = [
        {
            "statement_id": r.statement_id,
            "patient_id": r.patient_id,
            "amount_due": str(r.amount_due),
            "claims": list(r.claim_ids),
            "document_id": r.document_id,
        }
        for r in results
    ]
    if json_output:
        print_json({"statements": rows, "files": written})
        return
    for row in rows:
        typer.echo(
            f"statement {row['statement_id']:>6}  patient {row['patient_id']:>6}  "
            f"due {row['amount_due']:>10}  claims {row['claims']}"
        )
    typer.echo(f"{len(rows)} statement(s) for {day}" + (f"; PDFs in {out}" if out else ""))
