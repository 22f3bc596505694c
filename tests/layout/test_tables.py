"""The tables that own the rules: each state machine and the review kinds, walked whole.

Every status of every machine is reachable from a new row, every move in the table is
allowed, and every move not in it is refused with ``InvalidTransition``; every review
kind has exactly one row, a decision model, resolvers among the real roles, an SLA,
and an applier taking ``(session, task, decision, *, actor)``.
"""

from __future__ import annotations

import inspect
import itertools
from types import SimpleNamespace

import pytest

from claimdesk.billing.deposits import DEPOSIT
from claimdesk.billing.plans import INSTALLMENT, PLAN
from claimdesk.billing.refunds import REFUND
from claimdesk.claims.status import CLAIM, ClaimStatus
from claimdesk.denials.status import APPEAL, DENIAL
from claimdesk.errors import InvalidTransition
from claimdesk.learning.status import LEARNED_RULE
from claimdesk.remittance.status import REMITTANCE
from claimdesk.review.decisions import DECISION_MODELS
from claimdesk.review.status import TASK
from claimdesk.states import StateMachine
from claimdesk.submission.status import SUBMISSION
from claimdesk.workqueue.kinds import KINDS, kinds_for_role
from models.users import ROLES

MACHINES = [
    *(CLAIM, TASK, DENIAL, APPEAL, SUBMISSION, REMITTANCE),
    *(REFUND, PLAN, INSTALLMENT, DEPOSIT, LEARNED_RULE),
]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_status_is_reachable_from_a_new_row(machine: StateMachine) -> None:
    assert machine.reachable() == machine.statuses


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_move_in_the_table_is_allowed_and_every_other_refused(
    machine: StateMachine,
) -> None:
    for current, target in itertools.product(sorted(machine.statuses), repeat=2):
        row = SimpleNamespace(**{machine.field: current})
        if target in machine.moves[current]:
            assert machine.move(row, target) == current
            assert getattr(row, machine.field) == target
        else:
            with pytest.raises(InvalidTransition) as refused:
                machine.move(row, target)
            assert getattr(row, machine.field) == current  # a refused move changes nothing
            assert machine.name in str(refused.value) and repr(target) in str(refused.value)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_unknown_statuses_are_refused(machine: StateMachine) -> None:
    first = sorted(machine.statuses)[0]
    with pytest.raises(InvalidTransition):
        machine.check("no-such-status", first)
    with pytest.raises(InvalidTransition):
        machine.check(first, "no-such-status")


def test_a_guarded_update_lists_exactly_the_sources_of_its_target() -> None:
    assert TASK.sources("claimed") == ("claimed", "open")
    assert SUBMISSION.sources("sent") == ("built",)
    with pytest.raises(InvalidTransition):
        TASK.sources("open-and-shut")


def test_a_table_naming_a_status_without_a_row_is_refused_when_defined() -> None:
    with pytest.raises(ValueError, match="without a row"):
        StateMachine("broken", initial=frozenset({"a"}), moves={"a": frozenset({"b"})})


def test_the_claim_machine_is_the_claim_status_enum() -> None:
    assert CLAIM.statuses == {s.value for s in ClaimStatus}


def test_every_review_kind_has_one_row_and_one_decision_model() -> None:
    assert set(KINDS) == set(DECISION_MODELS)
    for name, row in KINDS.items():
        assert row.decision is DECISION_MODELS[name]
        assert row.resolvers and row.resolvers <= set(ROLES), name
        assert row.sla_hours > 0, name
        parameters = inspect.signature(row.apply).parameters
        assert list(parameters)[:3] == ["session", "task", "decision"], name
        assert parameters["actor"].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_a_working_role_sees_only_the_kinds_it_resolves() -> None:
    specialist = set(kinds_for_role("specialist"))
    assert "write_off_approval" not in specialist and "refund" not in specialist
    assert "denial" in specialist and "eligibility" in specialist
    assert set(kinds_for_role("lead")) == set(KINDS)
    assert set(kinds_for_role("auditor")) == set(KINDS)  # sees every queue, resolves none
