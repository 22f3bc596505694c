"""Role × action: every service function that checks a role refuses the roles it must.

The POLICY table below says, for each public service function that takes a user, which
roles may call it. The test calls every function as every role (and as a deactivated
user): a role outside the row must get ``PermissionDenied``; a role inside must not
(another refusal, e.g. ``NotFound``, is fine: the gate was passed). The table is checked
against the code: a public function under ``claimdesk/`` (outside ``cli/``) that calls
``permissions.require`` (directly or through another such function) without a row
fails the test, so a new service function cannot skip this matrix. Every command of
the CLI has its row in tests/reliability/test_cli_access.py (signed-in person, operator
or open), with the service identity refused there too.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import claimdesk
from claimdesk.access import accounts, auth
from claimdesk.access.permissions import service_identity
from claimdesk.claims import frequency
from claimdesk.db import make_engine, session_scope
from claimdesk.documents import LocalDocumentStore
from claimdesk.eligibility.view import read_coverage
from claimdesk.errors import ClaimdeskError, PermissionDenied, ReviewConflict
from claimdesk.intake import charge_entry, office_edit
from claimdesk.learning import approval, fixes, suggestions
from claimdesk.migrate import upgrade_database
from claimdesk.reporting import dashboard, rate_changes
from claimdesk.reporting import search as phi_search
from claimdesk.reporting.trends import read_trends
from claimdesk.review import tasks as review_tasks
from claimdesk.settings import Settings
from claimdesk.workqueue import filters as queue_lists
from claimdesk.workqueue import queue, resolve, saved_views, task_view
from claimdesk.workqueue.forms import read_lookups
from models import User
from tests.factories import make_claim

ROLES = ("specialist", "lead", "manager", "auditor", "admin")
WORKERS = frozenset({"specialist", "lead"})
EVERYONE = frozenset(ROLES)
READERS = EVERYONE  # the auditor reads everything and changes nothing
OVERSEERS = frozenset({"lead", "manager", "admin", "auditor"})


@dataclass
class Ctx:
    engine: Engine
    store: LocalDocumentStore
    settings: Settings
    claim_id: int
    document_id: int

    def task(self, *, claimed_by: str | None = None) -> int:
        """A new open scrub task (claimed by ``claimed_by`` when given)."""
        with session_scope(self.engine) as session:
            task = review_tasks.ensure_review_task(
                session=session,
                kind="scrub",
                claim_id=self.claim_id,
                claim_version=1,
                step=next(_steps),
                flow_run_id=None,
            )
            if claimed_by:
                user = session.exec(select(User).where(User.username == claimed_by)).one()
                review_tasks.claim_task(session=session, task_id=task.id or 0, user=user)
            return task.id or 0

    def user(self, session: Session, username: str) -> User:
        if username == SERVICE.username:  # the scheduled flows' identity: no user row
            return SERVICE  # type: ignore[return-value]
        return session.exec(select(User).where(User.username == username)).one()


_steps = itertools.count(10)
# A service identity (what schedules and flows act as) is a row too: refused everywhere here.
SERVICE = service_identity("statements")
DECISION = {"action": "override", "reason": "payer confirmed"}


def _in_session(ctx: Ctx, work: Callable[[Session], Any]) -> Any:
    with session_scope(ctx.engine) as session:
        return work(session)


def _render_claim_form(ctx: Ctx, who: str) -> Any:
    from claimdesk.submission import paper as paper_claims

    return _in_session(
        ctx,
        lambda s: paper_claims.render_claim_form(
            s, settings=ctx.settings, claim_id=ctx.claim_id, username=who, form_date=date.today()
        ),
    )


def _record_mail_appeal_outcome(ctx: Ctx, who: str) -> Any:
    from claimdesk.denials import workflow as denial_workflow

    return _in_session(
        ctx,
        lambda s: denial_workflow.record_mail_appeal_outcome(
            s, appeal_id=999_999, outcome="overturned", username=who
        ),
    )


# function (module.name) → (roles that may call it, how to call it as ``who``)
POLICY: dict[str, tuple[frozenset[str], Callable[[Ctx, str], Any]]] = {
    # The matrix's claim is a draft: past the gate, both refuse it as not adjudicated.
    "claims.frequency.void_claim": (
        frozenset({"lead", "manager"}),
        lambda c, who: _in_session(
            c, lambda s: frequency.void_claim(s, c.claim_id, c.user(s, who), "duplicate")
        ),
    ),
    "claims.frequency.replace_claim": (
        WORKERS,
        lambda c, who: _in_session(
            c, lambda s: frequency.replace_claim(s, c.claim_id, c.user(s, who), "typo")
        ),
    ),
    "access.auth.list_users": (
        frozenset({"admin"}),
        lambda c, who: auth.list_users(c.engine, username=who),
    ),
    "access.auth.create_user": (
        frozenset({"admin"}),
        lambda c, who: auth.create_user(
            c.engine,
            username=who,
            new_username=f"new-{who}-{next(_steps)}",
            role="specialist",
            password="long-enough-1",
        ),
    ),
    "access.accounts.read_accounts": (
        frozenset({"admin"}),
        lambda c, who: accounts.read_accounts(c.engine, username=who),
    ),
    "access.accounts.manage_account": (
        frozenset({"admin"}),
        lambda c, who: accounts.manage_account(
            c.engine, username=who, target="bo", change="enable"
        ),
    ),
    "access.accounts.manage_identity": (
        frozenset({"admin"}),
        lambda c, who: accounts.manage_identity(
            c.engine, username=who, identity_id=999_999, target=None
        ),
    ),
    # The admin pages' office data: past the gate, empty values are refused by field.
    "intake.office_edit.read_office": (
        frozenset({"admin"}),
        lambda c, who: office_edit.read_office(c.engine, username=who),
    ),
    **{
        f"intake.office_edit.{fn.__name__}": (
            frozenset({"admin"}),
            lambda c, who, fn=fn: fn(c.engine, username=who, values={}),
        )
        for fn in (
            office_edit.save_practice,
            office_edit.save_provider,
            office_edit.save_payer,
            office_edit.save_fee_row,
        )
    },
    "intake.office_edit.import_fee_csv": (
        frozenset({"admin"}),
        lambda c, who: office_edit.import_fee_csv(
            c.engine, username=who, data=b"", filename="fees.csv"
        ),
    ),
    "reporting.dashboard.read_queue_health": (
        OVERSEERS,
        lambda c, who: dashboard.read_queue_health(c.engine, username=who),
    ),
    "reporting.dashboard.read_kpis": (
        OVERSEERS,
        lambda c, who: dashboard.read_kpis(
            c.engine, username=who, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)
        ),
    ),
    "workqueue.filters.list_queue": (
        READERS,
        lambda c, who: queue_lists.list_queue(
            c.engine, username=who, filters=queue_lists.QueueFilters()
        ),
    ),
    "workqueue.queue.read_choices": (
        READERS,
        lambda c, who: queue.read_choices(c.engine, username=who),
    ),
    "workqueue.queue.take_next_task": (
        WORKERS,
        lambda c, who: (c.task(), queue.take_next_task(c.engine, username=who)),
    ),
    "workqueue.queue.claim": (
        WORKERS,
        lambda c, who: queue.claim(c.engine, username=who, task_id=c.task()),
    ),
    "workqueue.queue.unclaim": (
        WORKERS,
        lambda c, who: queue.unclaim(
            c.engine, username=who, task_id=c.task(claimed_by=who if who in WORKERS else "ann")
        ),
    ),
    "workqueue.queue.reassign": (
        frozenset({"lead", "manager", "admin"}),  # a specialist cannot reassign
        lambda c, who: queue.reassign(
            c.engine, username=who, task_ids=[c.task()], to_username="bo"
        ),
    ),
    "review.tasks.claim_task": (
        WORKERS,
        lambda c, who: _in_session(
            c, lambda s: review_tasks.claim_task(session=s, task_id=c.task(), user=c.user(s, who))
        ),
    ),
    "workqueue.resolve.record_decision": (
        WORKERS,
        lambda c, who: _in_session(
            c,
            lambda s: resolve.record_decision(
                session=s, task_id=c.task(), user=c.user(s, who), decision=DECISION
            ),
        ),
    ),
    "workqueue.resolve.resolve_review": (
        WORKERS,
        lambda c, who: resolve.resolve_review(
            c.engine, task_id=c.task(), username=who, decision=DECISION, resumer=_no_resume
        ),
    ),
    "workqueue.saved_views.save_view": (
        READERS,
        lambda c, who: saved_views.save_view(
            c.engine,
            username=who,
            name=f"v{next(_steps)}",
            filters=queue_lists.QueueFilters(),
            shared=False,
        ),
    ),
    "workqueue.saved_views.list_views": (
        READERS,
        lambda c, who: saved_views.list_views(c.engine, username=who),
    ),
    "workqueue.saved_views.read_view": (
        READERS,
        lambda c, who: saved_views.read_view(c.engine, username=who, view_id=1),
    ),
    "reporting.trends.read_trends": (
        OVERSEERS,
        lambda c, who: read_trends(c.engine, username=who),
    ),
    "workqueue.forms.read_lookups": (
        READERS,
        lambda c, who: read_lookups(c.engine, username=who),
    ),
    # Charge entry: who keys charges (specialist, lead, manager); the auditor only reads.
    "intake.charge_entry.find_patients": (
        frozenset({"specialist", "lead", "manager"}),
        lambda c, who: charge_entry.find_patients(c.engine, username=who, query="Testpatient"),
    ),
    "intake.charge_entry.read_charge_form": (
        frozenset({"specialist", "lead", "manager"}),
        lambda c, who: charge_entry.read_charge_form(c.engine, username=who, patient_id=1),
    ),
    "intake.charge_entry.look_up_codes": (
        frozenset({"specialist", "lead", "manager"}),
        lambda c, who: charge_entry.look_up_codes(
            c.engine, username=who, kind="procedure", text="99213", on=date(2026, 3, 1)
        ),
    ),
    "intake.charge_entry.fee_for": (
        frozenset({"specialist", "lead", "manager"}),
        lambda c, who: charge_entry.fee_for(
            c.engine, username=who, coverage_id=1, code="99213", on=date(2026, 3, 1)
        ),
    ),
    "intake.charge_entry.save_charge": (
        frozenset({"specialist", "lead", "manager"}),
        lambda c, who: charge_entry.save_charge(
            c.engine,
            username=who,
            entry=charge_entry.ChargeEntry(None, None, None, diagnoses=[], lines=[]),
        ),
    ),
    # Patient and claim search: phi.search (a specialist gives a reason, as here).
    "reporting.search.search": (
        frozenset({"specialist", "lead", "manager", "auditor"}),
        lambda c, who: phi_search.search(
            c.engine, username=who, query="Testpatient", by="name", reason="patient called in"
        ),
    ),
    "eligibility.view.read_coverage": (
        READERS,
        lambda c, who: read_coverage(c.engine, username=who, claim_id=c.claim_id),
    ),
    "workqueue.task_view.read_task_view": (
        READERS,
        lambda c, who: task_view.read_task_view(c.engine, username=who, task_id=c.task()),
    ),
    "workqueue.task_view.add_comment": (
        frozenset({"specialist", "lead", "manager"}),  # the auditor does not comment
        lambda c, who: task_view.add_comment(
            c.engine, username=who, task_id=c.task(), body="called the payer"
        ),
    ),
    "workqueue.task_view.read_document": (
        READERS,
        lambda c, who: task_view.read_document(
            c.engine, c.store, username=who, document_id=c.document_id
        ),
    ),
    "workqueue.task_view.attach_document": (
        WORKERS,
        lambda c, who: task_view.attach_document(
            c.engine,
            c.store,
            username=who,
            task_id=c.task(),
            data=f"records {who}".encode(),
            content_type="text/plain",
        ),
    ),
    "workqueue.resolve.submit_decision": (
        WORKERS,
        lambda c, who: resolve.submit_decision(
            c.engine, username=who, task_id=c.task(), decision=DECISION, resumer=_no_resume
        ),
    ),
    "submission.paper.render_claim_form": (READERS, _render_claim_form),
    "denials.workflow.record_mail_appeal_outcome": (WORKERS, _record_mail_appeal_outcome),
    # No rule 0: past the gate, each refuses it as not found.
    **{
        f"learning.approval.{fn.__name__}": (
            frozenset({"lead"}),
            lambda c, who, fn=fn: _in_session(
                c, lambda s: fn(s, 0, user=c.user(s, who), reason="matrix")
            ),
        )
        for fn in (approval.approve_rule, approval.dismiss_rule, approval.retire_rule)
    },
    # The Suggestions page: leads and managers read, a lead decides (no rule 0: not found).
    "learning.suggestions.read_rules": (
        frozenset({"lead", "manager"}),
        lambda c, who: suggestions.read_rules(c.engine, username=who),
    ),
    "learning.suggestions.find_suggestions": (
        frozenset({"lead", "manager"}),
        lambda c, who: suggestions.find_suggestions(
            c.engine, c.settings, username=who, today=date(2026, 12, 1)
        ),
    ),
    # The dashboard's rate-cut flags (learned from the 835s): the dashboard's readers.
    "reporting.rate_changes.read_rate_cuts": (
        OVERSEERS,
        lambda c, who: rate_changes.read_rate_cuts(
            c.engine, c.settings, username=who, today=date(2026, 12, 1)
        ),
    ),
    # The task page's learned fix (a denial's pattern): whoever may read the task.
    "learning.fixes.read_learned_fix": (
        READERS,
        lambda c, who: fixes.read_learned_fix(c.engine, username=who, task_id=c.task()),
    ),
    "learning.suggestions.backtest_again": (
        frozenset({"lead", "manager"}),
        lambda c, who: suggestions.backtest_again(
            c.engine, c.settings, username=who, rule_id=0, today=date(2026, 12, 1)
        ),
    ),
    "learning.suggestions.decide_rule": (
        frozenset({"lead"}),
        lambda c, who: suggestions.decide_rule(
            c.engine, username=who, rule_id=0, decision="dismiss", reason="matrix"
        ),
    ),
}

# Functions that take a user but are no role gate themselves, and why.
NOT_GATES = {
    "access.auth.authenticate": "signs in: checks the password, not a role",
    "access.auth.load_active_user": "loads the caller for the gates above",
    "access.auth.record_logout": "records the caller's own sign-out",
    "workqueue.resolve.get_user": "loads a user by name",
    "workqueue.saved_views.delete_view": "owner-only (checked in test_delete_view_is_owner_only)",
}


def _no_resume(run: str, ref: int) -> None:
    raise AssertionError("no flow run waits on these tasks")


def _gates() -> dict[str, str]:
    """module.function of every public service function behind ``permissions.require``.

    Found by reading the code: a function that calls ``require(``, or calls another
    gate of its own module or of the services it imports.
    """
    functions: dict[str, str] = {}
    for info in pkgutil.walk_packages(claimdesk.__path__, "claimdesk."):
        short = info.name.removeprefix("claimdesk.")
        if info.ispkg or short.startswith(("cli.", "payer_sim.")) or short == "access.permissions":
            continue
        module = importlib.import_module(info.name)
        if "permissions import require" not in inspect.getsource(module):
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                functions[f"{short}.{name}"] = inspect.getsource(fn)
    gates = {name for name, source in functions.items() if re.search(r"\brequire\(", source)}
    while True:  # through the functions they call
        more = {
            name
            for name, source in functions.items()
            if name not in gates
            and any(re.search(rf"\b{g.rsplit('.', 1)[1]}\(", source) for g in gates)
        }
        if not more:
            return {name: functions[name] for name in gates}
        gates |= more


def test_every_role_gated_service_function_has_a_row() -> None:
    gates = set(_gates())
    missing = gates - set(POLICY) - set(NOT_GATES)
    assert not missing, f"add a POLICY row (roles allowed) for: {sorted(missing)}"
    stale = set(POLICY) - gates
    assert not stale, f"POLICY rows for functions that no longer check a role: {sorted(stale)}"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    folder = tmp_path_factory.mktemp("matrix")
    settings = Settings(_env_file=None, data_dir=folder)
    engine = make_engine(settings)
    upgrade_database(engine)
    store = LocalDocumentStore(folder / "documents")
    with session_scope(engine) as session:
        for role in ROLES:
            session.add(User(username=role, role=role, password_hash="x"))
        session.add(User(username="gone", role="lead", password_hash="x", active=False))
        session.add(User(username="ann", role="specialist", password_hash="x"))
        session.add(User(username="bo", role="specialist", password_hash="x"))
        claim = make_claim(session)
        claim_id = claim.id or 0
    task_id = Ctx(engine, store, settings, claim_id, 0).task()
    document_id = task_view.attach_document(
        engine, store, username="ann", task_id=task_id, data=b"ISA*x~", content_type="text/plain"
    )
    yield Ctx(engine, store, settings, claim_id, document_id)
    engine.dispose()


CASES = [(fn, role) for fn in POLICY for role in (*ROLES, "gone", SERVICE.username)]


@pytest.mark.parametrize(("function", "who"), CASES, ids=[f"{f}-{r}" for f, r in CASES])
def test_role_matrix(ctx: Ctx, function: str, who: str) -> None:
    allowed, call = POLICY[function]
    if who != "gone" and who in allowed:
        try:
            call(ctx, who)
        except PermissionDenied as exc:
            pytest.fail(f"{who} may {function} but was refused: {exc}")
        except ClaimdeskError:
            pass  # past the gate (e.g. a claim without the data a form needs)
    else:
        with pytest.raises(PermissionDenied):
            call(ctx, who)


def test_specialist_cannot_resolve_a_task_claimed_by_someone_else(ctx: Ctx) -> None:
    task_id = ctx.task(claimed_by="ann")
    with pytest.raises(ReviewConflict, match="claimed by someone else"):
        resolve.resolve_review(
            ctx.engine, task_id=task_id, username="bo", decision=DECISION, resumer=_no_resume
        )
    with pytest.raises(PermissionDenied):
        queue.unclaim(ctx.engine, username="bo", task_id=task_id)
    # A lead may (it is the lead's job to unblock); the task is then resolved once.
    outcome = resolve.resolve_review(
        ctx.engine, task_id=task_id, username="lead", decision=DECISION, resumer=_no_resume
    )
    assert outcome.decision_id > 0


def test_delete_view_is_owner_only(ctx: Ctx) -> None:
    view_id = saved_views.save_view(
        ctx.engine,
        username="ann",
        name="mine",
        filters=queue_lists.QueueFilters(),
        shared=True,
    )
    for other in ("bo", "lead", "manager", "admin", "auditor"):
        with pytest.raises(PermissionDenied):
            saved_views.delete_view(ctx.engine, username=other, view_id=view_id)
    saved_views.delete_view(ctx.engine, username="ann", view_id=view_id)


def test_policy_table_reads_like_the_brief() -> None:
    """The policy the matrix enforces (independent of ``ROLE_ACTIONS``): spot checks."""
    writes = [f for f, (roles, _) in POLICY.items() if "auditor" not in roles]
    assert "workqueue.resolve.resolve_review" in writes and "workqueue.queue.reassign" in writes
    assert "specialist" not in POLICY["workqueue.queue.reassign"][0]
    assert POLICY["access.auth.create_user"][0] == {"admin"}
