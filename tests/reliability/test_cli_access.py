"""Every command of the CLI, by whom it acts for: the command line's access matrix.

``PERSON`` commands show patient data or do a person's work: they act as the user
`claimdesk login` signed in and refuse, audited, without a valid token. ``OPERATOR``
commands run the system and act as the OS account (``os:NAME``). ``OPEN`` commands read
no patient data. The table is checked against the real command tree, so a new command
cannot skip it; the roles behind each person command are the service functions' matrix
(tests/reliability/test_access_matrix.py). The service identity (what schedules and
flows act as) is a row here too: it has no sign-in, and no review action admits it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from claimdesk.access import cli_tokens
from claimdesk.access.permissions import ROLE_ACTIONS, SERVICE_ROLE
from claimdesk.cli._acting import operator
from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings, get_settings
from claimdesk.workqueue.kinds import review_kind
from models import AuditEvent, Claim, ReviewTask, User
from tests.cli.test_cli_tree import LEAVES
from tests.conftest import sign_in_cli
from tests.factories import make_claim
from tests.reliability.test_access_matrix import SERVICE

runner = CliRunner()
FILE = "{file}"  # an existing file (its contents never read: refused first)
NEW = "{new}"  # a path that does not exist yet

# command → arguments that reach the sign-in (the gate comes before anything is done)
PERSON: dict[str, list[str]] = {
    "acks import": [FILE],
    "appeals list": [],
    "appeals outcome": ["1", "upheld"],
    "balances ageing": [],
    "claims list": [],
    "claims show": ["1"],
    "claims void": ["1", "--reason", "matrix"],
    "claims replace": ["1", "--reason", "matrix"],
    "deposits import": [FILE],
    "deposits match": [],
    "export 837": ["--out", NEW],
    "paper cms1500": ["1", "--out", NEW],
    "paper post-eob": [FILE],
    "payments post": ["--patient", "1", "--amount", "5.00", "--method", "cash"],
    "payments plan create": ["--patient", "1", "--total", "100.00", "--installment", "10.00"],
    "payments plan list": [],
    "refunds list": [],
    "remittances import": [FILE],
    "review list": [],
    "review resolve": ["1", "--decision", "{}"],
    "rules approve": ["1"],
    "statements run": [],
    "users add": ["eve", "--role", "lead", "--password-stdin"],
    "users list": [],
    "users identities": [],
    "users set-password": ["spec", "--password-stdin"],
    "users disable": ["spec"],
    "users enable": ["spec"],
    "users set-role": ["spec", "--role", "lead"],
    "users unlock": ["spec"],
    "users reset-totp": ["spec"],
    "users link-sso": ["1", "spec"],
}
# command → why it acts as the OS account (audited as os:NAME where it changes anything)
OPERATOR: dict[str, str] = {
    "up": "starts the stack (stack.started)",
    "down": "stops this data directory's processes",
    "db upgrade": "migrates the schema (system.db_upgraded)",
    "db current": "prints the schema revision",
    "demo-data": "seeds the demo office",
    "office import": "the office's own configuration file",
    "patients import": "an import: the operator's file, audited row by row",
    "fhir import": "an import: the operator's file, audited row by row",
    "claims import": "an import: the operator's file, audited",
    "visits import": "an import: the operator's file, audited",
    "rules load": "CMS's edit files",
    "rules suggest": "a learning run: stores suggestions a lead approves",
    "paper print": "the paper sending step, as `run submission` is",
    "run eligibility": "starts a flow run (flow.run_started); the run acts as its service",
    "run submission": "starts a flow run (flow.run_started)",
    "run acknowledgements": "starts a flow run (flow.run_started)",
    "run status": "starts a flow run (flow.run_started)",
    "run remittances": "starts a flow run (flow.run_started)",
    "run sweep": "starts a flow run (flow.run_started)",
    "prefect bootstrap": "sets up the Prefect server (prefect.bootstrapped)",
    "users bootstrap-admin": "the first admin, only while there is no active admin",
    "audit seal": "writes the audit checkpoint",
    "audit verify": "checks the chain against the checkpoint",
    "logs task-errors": "claimdesk's own error log, for whoever runs it",
}
# command → why it needs nobody
OPEN: dict[str, str] = {
    "login": "the sign-in itself",
    "codes": "code lists shipped with claimdesk",
    "config show": "the settings, secrets masked",
    "x12 parse": "reads a file given; no database",
    "x12 validate": "reads a file given; no database",
    "payer-sim": "the simulator: no claimdesk data",
    "kpis": "aggregates only: rates, days and dollars, no patient",
    "payers list": "the office's payers: no patient",
    "practices list": "the office's practices and providers: no patient",
    "rules versions": "which CMS files are loaded",
    "rules backtest": "a rule's counts and dollars over the window: no patient",
}


def test_every_command_has_a_row_and_none_takes_user() -> None:
    rows = set(PERSON) | set(OPERATOR) | set(OPEN)
    missing = set(LEAVES) - rows
    assert not missing, f"say whom these commands act for (PERSON/OPERATOR/OPEN): {missing}"
    assert not set(PERSON) & (set(OPERATOR) | set(OPEN))
    with_user = [
        path
        for path, command in LEAVES.items()
        if any("--user" in getattr(param, "opts", []) for param in command.params)
    ]
    assert not with_user, f"`--user` is a name anyone types; sign in instead: {with_user}"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A migrated SQLite office: a specialist, a lead, an admin, one draft claim."""
    folder = tmp_path_factory.mktemp("cli-access")
    settings = Settings(_env_file=None, data_dir=folder)
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for name, role in (("spec", "specialist"), ("lead1", "lead"), ("ada", "admin")):
            session.add(User(username=name, role=role, password_hash="x"))
        make_claim(session)
    engine.dispose()
    (folder / "some.file").write_text("ISA*nothing read~")
    yield settings


@pytest.fixture
def cli(office: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLAIMDESK_SECRETS_KEY", raising=False)
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(office.data_dir))
    get_settings.cache_clear()
    cli_tokens.remove_token(office)
    yield office
    cli_tokens.remove_token(office)
    get_settings.cache_clear()


def _invoke(settings: Settings, path: str, args: list[str]) -> Any:
    new = settings.data_dir / "out" / "never-written.837"
    new.parent.mkdir(exist_ok=True)
    filled = [
        a.replace(FILE, str(settings.data_dir / "some.file")).replace(NEW, str(new)) for a in args
    ]
    result = runner.invoke(app, [*path.split(" "), *filled], input="long-enough-pw-1\n")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def _refusals(settings: Settings) -> list[tuple[str, str]]:
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            events = session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == "access.refused")
                .order_by(col(AuditEvent.id))
            ).all()
            return [(e.actor, str(e.details.get("action"))) for e in events]
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", sorted(PERSON))
def test_a_person_command_without_a_token_is_refused_and_audited(cli: Settings, path: str) -> None:
    before = _refusals(cli)
    result = _invoke(cli, path, PERSON[path])
    assert result.exit_code == 1, result.output
    assert "not signed in: sign in with `claimdesk login`" in result.output
    assert _refusals(cli)[len(before) :] == [("cli:anonymous", f"cli:{path}")]


@pytest.mark.parametrize("path", sorted(PERSON))
def test_the_service_identity_cannot_sign_in_at_the_command_line(cli: Settings, path: str) -> None:
    """A token naming a service identity (no user row, no password) is refused everywhere."""
    now = cli_tokens.utcnow()
    token = cli_tokens.token_path(cli)
    token.write_text(
        json.dumps(
            {
                "username": SERVICE.username,
                "issued_at": now.isoformat(),
                "expires_at": (now + timedelta(hours=1)).isoformat(),
                "mac": "0" * 64,
            }
        )
    )
    token.chmod(0o600)
    before = _refusals(cli)
    result = _invoke(cli, path, PERSON[path])
    assert result.exit_code == 1 and "unknown or disabled" in result.output, result.output
    assert _refusals(cli)[len(before) :] == [(SERVICE.username, f"cli:{path}")]


@pytest.mark.parametrize("path", sorted(PERSON))
def test_a_signed_in_person_gets_past_the_sign_in(cli: Settings, path: str) -> None:
    sign_in_cli(cli, "lead1")
    result = _invoke(cli, path, PERSON[path])
    assert "claimdesk login" not in result.output, result.output
    assert ("cli:anonymous", f"cli:{path}") not in _refusals(cli)[-1:]


def test_no_review_action_admits_the_service_identity() -> None:
    """Schedules and flows act as service identities: they can never decide a review task."""
    for action in ("task.claim", "task.resolve", "task.reassign", "rules.approve"):
        assert SERVICE_ROLE not in ROLE_ACTIONS[action], action
    for kind in ("scrub", "eligibility", "denial", "write_off_approval", "refund"):
        assert SERVICE_ROLE not in review_kind(kind).resolvers, kind


def test_an_expired_or_revoked_token_is_refused_and_audited(cli: Settings) -> None:
    sign_in_cli(cli, "spec", lifetime=timedelta(seconds=-1))
    expired = _invoke(cli, "claims show", ["1"])
    assert expired.exit_code == 1 and "the sign-in expired" in expired.output
    sign_in_cli(cli, "spec")
    assert _invoke(cli, "claims show", ["1"]).exit_code == 0  # a fresh one works
    engine = make_engine(cli)
    with session_scope(engine) as session:  # a password reset revokes every CLI sign-in
        user = session.exec(select(User).where(User.username == "spec")).one()
        user.password_hash = "y"
        session.add(user)
    engine.dispose()
    revoked = _invoke(cli, "claims show", ["1"])
    assert revoked.exit_code == 1 and "revoked or is not valid" in revoked.output
    assert _refusals(cli)[-2:] == [("spec", "cli:claims show"), ("spec", "cli:claims show")]
    sign_in_cli(cli, "spec")  # signed in again, as after `claimdesk login`


def test_a_specialist_token_cannot_resolve_a_write_off_approval(cli: Settings) -> None:
    engine = make_engine(cli)
    with session_scope(engine) as session:
        claim_id = session.exec(select(Claim.id)).first()
        task = ensure_review_task(
            session=session,
            kind="write_off_approval",
            claim_id=claim_id,
            claim_version=1,
            step=900,
            context={"amount": "400.00"},
        )
        task_id = task.id or 0
    decision = json.dumps({"action": "approve", "reason": "matrix"})
    sign_in_cli(cli, "spec")
    refused = _invoke(cli, "review resolve", [str(task_id), "--decision", decision])
    assert refused.exit_code == 1, refused.output
    assert "'write_off_approval' tasks are resolved by lead" in refused.output
    assert _refusals(cli)[-1] == ("spec", "task.resolve")
    with Session(engine) as session:
        stored = session.get(ReviewTask, task_id)
        assert stored is not None and stored.status == "open" and stored.decision_id is None
    sign_in_cli(cli, "lead1")  # the lead's token gets past the kind's gate
    lead = _invoke(cli, "review resolve", [str(task_id), "--decision", decision])
    assert "are resolved by" not in lead.output
    engine.dispose()


def test_operator_commands_are_audited_as_the_os_account(cli: Settings) -> None:
    assert operator().startswith("os:")
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    engine = make_engine(cli)
    with Session(engine) as session:
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "system.db_upgraded")
        ).all()
    assert event.actor == operator() and event.details["revision"]
    office_file = Path(__file__).resolve().parents[2] / "docs" / "examples" / "office.yaml"
    imported = runner.invoke(app, ["office", "import", str(office_file)])
    assert imported.exit_code == 0, imported.output
    with Session(engine) as session:
        actors = set(
            session.exec(
                select(AuditEvent.actor).where(col(AuditEvent.action).in_(("payer.created",)))
            ).all()
        )
    engine.dispose()
    assert actors == {operator()}
