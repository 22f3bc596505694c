"""`claimdesk audit`: seal the trail, and verify it against the last signed checkpoint."""

from __future__ import annotations

import typer

from claimdesk.cli._context import cli_session, load_settings, open_engine
from claimdesk.cli._utilities import EXIT_REFUSED, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Audit trail.", no_args_is_help=True)


@app.command("seal")
def seal(
    json_output: bool = typer.Option(False, "--json", help="Print the count sealed as JSON."),
) -> None:
    """Chain every event appended since the last seal (the sweep does this on its own)."""
    from models.audit import seal_and_checkpoint

    settings = load_settings()
    engine = open_engine()
    try:
        sealed = seal_and_checkpoint(engine, settings)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    if json_output:
        print_json({"sealed": sealed})
        return
    typer.echo(f"sealed {sealed} event(s)")


@app.command("verify")
def verify(
    no_seal: bool = typer.Option(
        False, "--no-seal", help="Only read (an auditor's database user may not seal)."
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print the report as JSON (exit 1 still when broken)."
    ),
) -> None:
    """Seal what is pending, walk the whole chain and compare it with the last checkpoint.

    Exits 1 naming every event where the chain breaks and every checkpoint mismatch
    (a truncated tail, an emptied table); a clean run writes a new checkpoint.
    """
    from models.audit import (
        audit_key,
        make_checkpoint_store,
        seal_and_checkpoint,
        verify_audit_trail,
        write_checkpoint,
    )

    settings = load_settings()
    not_sealed: str | None = None
    try:
        store = make_checkpoint_store(settings)
        checkpoint = store.latest()
        if not no_seal:
            engine = open_engine()
            try:
                seal_and_checkpoint(engine, settings)
            except ClaimdeskError as exc:
                # A head this key did not seal: still walk the chain to say where it breaks.
                not_sealed = str(exc)
            finally:
                engine.dispose()
        # Never a new key here: verifying a sealed trail needs the one that sealed it.
        key = audit_key(settings, create=False)
        with cli_session() as session:
            report = verify_audit_trail(session, key, checkpoint, checkpoint_where=store.where)
            if not_sealed:
                report.problems.append(f"nothing was sealed: {not_sealed}")
            if report.intact and not no_seal:
                write_checkpoint(session, key, store)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(
            {
                "intact": report.intact,
                "chained": report.head.count,
                "unsealed": report.unsealed,
                "checkpoint": checkpoint.written_at if checkpoint else None,
                "breaks": [{"event_id": b.event_id, "problem": b.problem} for b in report.breaks],
                "problems": list(report.problems),
            }
        )
        if not report.intact:
            raise typer.Exit(EXIT_REFUSED)
        return
    for item in report.breaks:
        typer.echo(f"event {item.event_id}: {item.problem}", err=True)
    for problem in report.problems:
        typer.echo(f"checkpoint: {problem}", err=True)
    if not report.intact:
        exit_with_error(
            f"the audit trail is broken in {len(report.breaks) + len(report.problems)} place(s)"
        )
    typer.echo(
        f"audit chain intact: {report.head.count} event(s) chained, "
        f"{report.unsealed} not sealed yet"
        + (f"; matches the checkpoint of {checkpoint.written_at}" if checkpoint else "")
    )
