"""The `claimdesk` command: one Typer app; each command group is imported when it runs."""

from __future__ import annotations

from typing import ClassVar

import typer

from claimdesk.cli._lazy import Lazy, LazyGroup
from claimdesk.cli._utilities import EXIT_CODES_HELP

# Every top-level command: its module under claimdesk.cli (imported only when the command
# runs), the Typer app or function in it, and the one line `claimdesk --help` shows (the
# command's own first help line; tests/cli/test_cli_tree.py keeps them equal).
COMMANDS: dict[str, Lazy] = {
    "config": Lazy("config_cmd", "app", "Settings."),
    "db": Lazy("db_cmd", "app", "Application database."),
    "users": Lazy("users_cmd", "app", "User accounts."),
    "login": Lazy(
        "login_cmd",
        "login",
        "Sign in at the command line (a short-lived token in the data directory).",
    ),
    "audit": Lazy("audit_cmd", "app", "Audit trail."),
    "logs": Lazy("logs_cmd", "app", "claimdesk's own logs (sealed on disk)."),
    "demo-data": Lazy(
        "demo_cmd",
        "demo_data",
        "Create the demo practice, payers, patients and draft claims (idempotent per seed).",
    ),
    "up": Lazy(
        "up_cmd",
        "up",
        "Start Prefect, a worker, the payer simulator and the app; Ctrl-C stops them all.",
    ),
    "down": Lazy(
        "down_cmd",
        "down",
        "Stop this data directory's stack: the one in its stack.json and any leftovers.",
    ),
    "x12": Lazy("x12_cmd", "app", "Read and check X12 5010 files."),
    "payer-sim": Lazy(
        "payer_sim_cmd", "app", "Run the payer simulator (claimdesk/payer_sim/README.md)."
    ),
    "review": Lazy("review_cmd", "app", "Review tasks (the human work queue)."),
    "appeals": Lazy("appeals_cmd", "app", "Appeals and their outcomes."),
    "claims": Lazy("claims_cmd", "app", "Claims."),
    "run": Lazy("run_cmd", "app", "Run a workflow now (through Prefect)."),
    "prefect": Lazy("prefect_cmd", "app", "The Prefect server claimdesk runs on."),
    "kpis": Lazy(
        "kpis_cmd",
        "kpis",
        "Clean-claim rate, denials, days in A/R, collections, appeals, queues (see docs/kpis.md).",
    ),
    "codes": Lazy(
        "codes_cmd",
        "codes",
        "Print a code's words, its effective/retired dates and, for a CARC, its class and route.",
    ),
    "rules": Lazy(
        "rules_cmd", "app", "CMS edit files the scrubber reads (NCCI PTP, MUE, HCPCS, ICD-10-CM)."
    ),
    "paper": Lazy("paper_cmd", "app", "Paper claims (CMS-1500, UB-04) and paper EOBs."),
    "statements": Lazy("statements_cmd", "app", "Patient statements."),
    "payments": Lazy("payments_cmd", "app", "Patient payments and payment plans."),
    "remittances": Lazy("remittances_cmd", "app", "Remittances (835s) from files."),
    "export": Lazy("export_cmd", "app", "Files for a clearinghouse portal (837 batches)."),
    "acks": Lazy("acks_cmd", "app", "Acknowledgements (999, 277CA, TA1) from files."),
    "deposits": Lazy("deposits_cmd", "app", "Bank deposits and their 835s."),
    "refunds": Lazy("refunds_cmd", "app", "Refunds of credit balances."),
    "balances": Lazy("balances_cmd", "app", "Patient balances."),
    "office": Lazy(
        "office_cmd",
        "app",
        "The office from one file: practices, providers, payers, fee schedules, users.",
    ),
    "payers": Lazy("office_cmd", "payers_app", "Payers."),
    "practices": Lazy("office_cmd", "practices_app", "Practices and their providers."),
    "patients": Lazy("patients_cmd", "app", "Patients, their coverages and authorizations."),
    "fhir": Lazy("fhir_cmd", "app", "FHIR R4 bundles: patients, coverages and claims."),
    "visits": Lazy(
        "visits_cmd", "app", "Scheduled visits, checked for eligibility before they come."
    ),
}


class ClaimdeskCommands(LazyGroup):
    lazy: ClassVar[dict[str, Lazy]] = COMMANDS


app = typer.Typer(
    name="claimdesk",
    help="Medical reimbursement work, automated.",
    epilog=EXIT_CODES_HELP,
    cls=ClaimdeskCommands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    # A callback makes the root a group; the commands come from COMMANDS.
    pass


if __name__ == "__main__":
    app()
