"""`claimdesk payments`: post a patient payment; create and list payment plans."""

from __future__ import annotations

from decimal import Decimal

import typer

from claimdesk.cli._billing import acting_user, parse_amount, parse_day
from claimdesk.cli._context import cli_session, load_settings
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Patient payments and payment plans.", no_args_is_help=True)
plan_app = typer.Typer(help="Payment plans.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@app.command("post")
def post(
    patient: int = typer.Option(..., "--patient", help="Patient id."),
    amount: str = typer.Option(..., "--amount", help="e.g. 25.00"),
    method: str = typer.Option(..., "--method", help="cash, check or card."),
    reference: str | None = typer.Option(None, "--reference", help="Check no. / card auth."),
    claim: list[str] = typer.Option(
        [], "--claim", help="CLAIM_ID=AMOUNT to apply to a claim (repeatable)."
    ),
    on_account: bool = typer.Option(False, "--on-account", help="Apply nothing now."),
    plan: int | None = typer.Option(None, "--plan", help="Payment plan id it pays toward."),
    received: str | None = typer.Option(None, "--date", help="Received on; default today."),
    key: str | None = typer.Option(None, "--key", help="Idempotency key (e.g. till txn id)."),
    json_output: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Post a payment: to the named claims, or oldest balance first; prints the receipt."""
    from claimdesk.billing.payments import post_patient_payment
    from claimdesk.documents import make_document_store

    allocations: dict[int, Decimal] = {}
    for item in claim:
        claim_id, _, part = item.partition("=")
        if not claim_id.isdigit() or not part:
            bad_input(f"--claim {item!r}: use CLAIM_ID=AMOUNT, e.g. 42=25.00")
        allocations[int(claim_id)] = parse_amount(part, "--claim")
    total = parse_amount(amount, "--amount")
    day = parse_day(received, "--date")
    source_key = key or f"cli:{patient}:{day}:{method}:{reference or ''}:{total}"
    store = make_document_store(load_settings())
    try:
        with cli_session() as session:
            result = post_patient_payment(
                session,
                user=acting_user(session, "payments post"),
                patient_id=patient,
                amount=total,
                method=method,
                reference=reference,
                received_on=day,
                source_key=source_key,
                allocations=allocations or None,
                on_account=on_account,
                plan_id=plan,
                store=store,
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(
            {
                "payment_id": result.payment_id,
                "created": result.created,
                "receipt_number": result.receipt_number,
                "applied": [
                    {"claim_id": applied_to, "amount": str(applied)}
                    for applied_to, applied in result.applied
                ],
                "on_account": str(result.on_account),
            }
        )
        return
    state = "posted" if result.created else "already posted (same --key)"
    typer.echo(f"payment {result.payment_id} {state}; receipt {result.receipt_number}")
    for applied_to, applied in result.applied:
        typer.echo(f"  claim {applied_to}: {applied}")
    if result.on_account:
        typer.echo(f"  on account: {result.on_account}")


@plan_app.command("create")
def plan_create(
    patient: int = typer.Option(..., "--patient", help="Patient id."),
    total: str = typer.Option(..., "--total", help="What the plan pays off, e.g. 300.00."),
    installment: str = typer.Option(..., "--installment", help="Each payment, e.g. 50.00."),
    every: int = typer.Option(30, "--every-days", min=1, max=366, help="Days between payments."),
    start: str | None = typer.Option(None, "--start", help="First due date; default today."),
    json_output: bool = typer.Option(False, "--json", help="Print the plan's id as JSON."),
) -> None:
    """A payment plan: TOTAL in INSTALLMENTs every N days from START."""
    from claimdesk.billing.plans import create_plan

    try:
        with cli_session() as session:
            row = create_plan(
                session,
                user=acting_user(session, "payments plan create"),
                patient_id=patient,
                total_amount=parse_amount(total, "--total"),
                installment_amount=parse_amount(installment, "--installment"),
                cadence_days=every,
                start_date=parse_day(start, "--start"),
            )
            plan_id = row.id
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json({"plan_id": plan_id})
        return
    typer.echo(f"payment plan {plan_id} created")


@plan_app.command("list")
def plan_list(
    patient: int | None = typer.Option(None, "--patient", help="Only this patient's plans."),
    status: str | None = typer.Option(
        None, "--status", help="Only plans in this status: active, completed or cancelled."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Payment plans with what was paid and missed."""
    from claimdesk.billing.plans import list_plans

    try:
        with cli_session() as session:
            rows = list_plans(
                session,
                user=acting_user(session, "payments plan list"),
                patient_id=patient,
                status=status,
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    data = [
        {
            "plan_id": r.plan_id,
            "patient_id": r.patient_id,
            "total": str(r.total_amount),
            "installment": str(r.installment_amount),
            "every_days": r.cadence_days,
            "next_due": r.next_due_date.isoformat() if r.next_due_date else None,
            "status": r.status,
            "paid": str(r.paid),
            "missed": r.missed,
        }
        for r in rows
    ]
    if json_output:
        print_json(data)
        return
    for d in data:
        typer.echo(
            f"plan {d['plan_id']:>5}  patient {d['patient_id']:>6}  {d['status']:9} "
            f"paid {d['paid']:>9} of {d['total']:>9}  next {d['next_due']}  missed {d['missed']}"
        )
    typer.echo(f"{len(data)} plan(s)")
