"""`claimdesk rules suggest | backtest | approve`: scrub rules learned from the office's
own denials (claimdesk.learning). Registered on the `rules` group by ``register``;
the learners and the database are imported inside the commands.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from claimdesk.cli._acting import operator
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json

if TYPE_CHECKING:
    from sqlmodel import Session

    from claimdesk.learning.backtest import Counts
    from claimdesk.rules.learned import LearnedRuleSpec

_DAYS_HELP = "The rolling window in days (default: CLAIMDESK_LEARNING_WINDOW_DAYS, 90)."


def register(app: typer.Typer) -> None:
    app.command("suggest")(suggest)
    app.command("backtest")(backtest)
    app.command("approve")(approve)


def _window(days: int | None) -> tuple[date, int]:
    from claimdesk.cli._context import load_settings
    from claimdesk.clock import today
    from claimdesk.errors import ClaimdeskError

    settings = load_settings()
    if days is not None and days < 1:
        bad_input(f"--days {days}: the window is at least one day.")
    try:
        return today(settings), days or settings.learning_window_days
    except ClaimdeskError as exc:
        exit_with_error(exc)


def _backtest_dict(result: Counts) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"rule", "rules"}) | {"words": result.words}


def suggest(
    days: int | None = typer.Option(None, "--days", help=_DAYS_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the suggestions as JSON."),
) -> None:
    """Suggest scrub rules from the window's denials, each with its backtest (kept as
    suggestions a lead may approve)."""
    from claimdesk.cli._context import cli_session, load_settings
    from claimdesk.learning import approval
    from claimdesk.learning import backtest as replay
    from claimdesk.learning.history import line_outcomes
    from claimdesk.learning.patterns import suggest_rules

    on, window = _window(days)
    min_lines = load_settings().learning_min_lines
    found: list[dict[str, Any]] = []
    with cli_session() as session:
        history = line_outcomes(session, today=on, days=window)
        for suggestion in suggest_rules(history, window_days=window, min_lines=min_lines):
            result = replay.backtest(suggestion.rule, history)
            row = approval.store_suggestion(session, suggestion, result, actor=operator())
            found.append(
                {
                    "id": row.id,
                    "status": row.status,
                    "rule": suggestion.rule.model_dump(mode="json", exclude={"id"}),
                    "backtest": _backtest_dict(result),
                }
            )
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo(f"no pattern with a clear split in the last {window} days")
        return
    for item in found:
        typer.echo(f"[{item['id']}] {item['status']}: {item['rule']['words']}")
        typer.echo(f"      fix: {item['rule']['fix']}; backtest: {item['backtest']['words']}")


def backtest(
    rule: str = typer.Argument(
        ...,
        metavar="RULE_JSON_OR_ID",
        help='A learned rule\'s id, a rule as JSON ({"payer_id": "SIMBLU", '
        '"kind": "required_modifier", "procedure_code": "97110", "modifier": "GP"}), '
        "or a candidate pack: a JSON list of ids and rules.",
    ),
    days: int | None = typer.Option(None, "--days", help=_DAYS_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the backtest as JSON."),
) -> None:
    """What a rule would have held over the window: denials caught, dollars, false holds."""
    from claimdesk.cli._context import cli_session
    from claimdesk.errors import ClaimdeskError
    from claimdesk.learning import backtest as replay
    from claimdesk.learning.history import line_outcomes

    on, window = _window(days)
    try:
        with cli_session() as session:
            specs = _specs(session, rule)
            history = line_outcomes(session, today=on, days=window)
            result = (
                replay.backtest(specs[0], history)
                if len(specs) == 1
                else replay.backtest_pack(specs, history)
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(_backtest_dict(result) | {"window_days": window})
        return
    named = ", ".join(f"{s.payer_id} {s.kind} {s.procedure_code}" for s in specs)
    typer.echo(f"{named}: {result.words}")


def _specs(session: Session, text: str) -> list[LearnedRuleSpec]:
    """An id, a rule's JSON, or a candidate pack: a JSON list of ids and rules."""
    import json

    from pydantic import ValidationError

    from claimdesk.learning.approval import rule_spec
    from claimdesk.rules.learned import LearnedRuleSpec

    if text.strip().isdigit():
        return [rule_spec(session, int(text))]
    try:
        data = json.loads(text)
    except ValueError as exc:
        bad_input(f"RULE_JSON_OR_ID: not an id or JSON ({exc}).")
    items = data if isinstance(data, list) else [data]
    if not items:
        bad_input("RULE_JSON_OR_ID: an empty list is no pack; give at least one rule.")
    specs: list[LearnedRuleSpec] = []
    for n, item in enumerate(items, start=1):
        where = f"rule {n}: " if isinstance(data, list) else ""
        if isinstance(item, int) and not isinstance(item, bool):
            specs.append(rule_spec(session, item))
            continue
        try:
            specs.append(LearnedRuleSpec.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "the rule"
            bad_input(f"RULE_JSON_OR_ID: {where}{field}: {first['msg']}.")
    return specs


def approve(
    rule_id: int = typer.Argument(..., help="The learned rule's id (`claimdesk rules suggest`)."),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail."),
    json_output: bool = typer.Option(False, "--json", help="Print the approved rule as JSON."),
) -> None:
    """Approve a learned rule (leads only, audited): the next scrub holds such claims."""
    from claimdesk.cli._acting import person
    from claimdesk.cli._context import cli_session
    from claimdesk.errors import ClaimdeskError
    from claimdesk.learning.approval import approve_rule
    from claimdesk.submission.learned import scrub_pack

    try:
        with cli_session() as session:
            lead = person(session, "rules approve")
            row = approve_rule(session, rule_id, user=lead, reason=reason)
            done = {
                "id": row.id,
                "status": row.status,
                "words": row.words,
                "fix": row.fix,
                "pack": scrub_pack(session).label,
            }
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(done)
        return
    typer.echo(f"rule {done['id']} approved: {done['words']}; the scrub now runs {done['pack']}")
