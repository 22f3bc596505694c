"""The `claimdesk` command: one Typer app, one sub-app per command group."""

from __future__ import annotations

import typer

from claimdesk.cli import (
    appeals_cmd,
    audit_cmd,
    balances_cmd,
    claims_cmd,
    codes_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    deposits_cmd,
    down_cmd,
    kpis_cmd,
    paper_cmd,
    payer_sim_cmd,
    payments_cmd,
    refunds_cmd,
    review_cmd,
    run_cmd,
    statements_cmd,
    up_cmd,
    users_cmd,
    x12_cmd,
)

app = typer.Typer(
    name="claimdesk",
    help="Medical reimbursement work, automated.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(users_cmd.app, name="users")
app.add_typer(audit_cmd.app, name="audit")
app.command("demo-data")(demo_cmd.demo_data)
app.command("up")(up_cmd.up)
app.command("down")(down_cmd.down)
app.add_typer(x12_cmd.app, name="x12")
app.add_typer(payer_sim_cmd.app, name="payer-sim")
app.add_typer(review_cmd.app, name="review")
app.add_typer(appeals_cmd.app, name="appeals")
app.add_typer(claims_cmd.app, name="claims")
app.add_typer(run_cmd.app, name="run")
app.command("kpis")(kpis_cmd.kpis)
app.command("codes")(codes_cmd.codes)
app.add_typer(paper_cmd.app, name="paper")
app.add_typer(statements_cmd.app, name="statements")
app.add_typer(payments_cmd.app, name="payments")
app.add_typer(deposits_cmd.app, name="deposits")
app.add_typer(refunds_cmd.app, name="refunds")
app.add_typer(balances_cmd.app, name="balances")


if __name__ == "__main__":
    app()
