"""The decision form in the office's words: what each action means, which one to take, and
everything claimdesk already knows filled in.

The form itself is drawn by the app (``ui/components/decision_form.py``) from the
task's stored schema; this module says, per kind, the sentence for each action, the
suggested action and why, the look-ups a field picks from (payers by name and EDI id,
place of service, ICD-10-CM diagnoses and procedure codes with their words where a
list gives them, the claim's documents), the values to start from, and which fields an
action uses. The decision it yields is checked by the same models and checks as one
from the command line (``claimdesk.workqueue.resolve``): nothing is validated here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.codes.loader import load
from claimdesk.db import session_scope
from claimdesk.eligibility.benefits import summarize
from claimdesk.rules.icd10cm import look_up_icd10cm
from claimdesk.workqueue.reasons import why_in_queue
from claimdesk.workqueue.task_view import TaskView
from models import Diagnosis, FeeSchedule, Payer

# The sentence a person reads for each action, per review kind (tests: every action has one).
_DEPOSIT = {
    "match": "Match it with the 835 or deposit named below",
    "dismiss": "Dismiss it (say why)",
}
ACTION_SENTENCES: dict[str, dict[str, str]] = {
    "eligibility": {
        "corrected_coverage": "Correct the coverage (payer, member id, dates) and check again",
        "self_pay": "Bill the patient as self-pay",
        "hold": "Hold the claim for now (say why)",
    },
    "visit_eligibility": {
        "corrected_coverage": "Correct the coverage (payer, member id, dates) and check again",
        "self_pay": "The patient will pay for the visit themselves",
        "patient_contacted": "I contacted the patient (say what was agreed)",
        "visit_cancelled": "Cancel the visit (say why)",
    },
    "scrub": {
        "corrected_fields": "Correct the claim's fields below and scrub it again",
        "override": "Send it as it is: the finding does not apply (say why)",
        "cancel": "Cancel the claim (say why)",
    },
    "rejection": {
        "resubmit": "Correct the claim below and send it again as a new claim",
        "cancel": "Cancel the claim (say why)",
    },
    "batch_rejection": {
        "resubmit_all": "Send every claim of the batch again",
        "hold_all": "Hold every claim of the batch",
    },
    "denial": {
        "corrected_claim": "Send a corrected claim (a replacement of the one denied)",
        "appeal": "Appeal the denial with the argument below",
        "bill_secondary": "Bill the secondary payer",
        "bill_patient": "Bill the patient for it",
        "write_off": "Write the amount off (say why)",
    },
    "appeal_send": {
        "send_electronic": "Send the letter to the payer electronically",
        "sent_fax": "I faxed the letter",
        "sent_mail": "I mailed the letter",
    },
    "status": {
        "documents_sent": "I sent the documents the payer asked for",
        "called_payer": "I called the payer (note the call reference)",
        "keep_waiting": "Keep waiting and ask again later",
    },
    "remittance": {
        "resolved": "I resolved it by hand (say how)",
        "repost": "Post the claim payment below to the claim named below",
        "dismiss": "Dismiss it: nothing to post (say why)",
    },
    "write_off_approval": {
        "approve": "Approve the write-off",
        "reject": "Send it back to the specialist (say why)",
    },
    "refund": {
        "approve": "Approve the refund, paid as below",
        "dismiss": "No refund (say why)",
    },
    "payment_plan": {
        "reschedule": "Move the installment to the new date below",
        "waive": "Forgive the installment (say why)",
        "cancel_plan": "End the plan (say why)",
    },
    "collections": {
        "contacted": "I contacted the patient (say what was agreed)",
        "payment_plan": "The patient agreed to a payment plan",
        "send_to_agency": "Send the balance to the collection agency",
        "write_off": "Write the balance off (say why)",
    },
    "deposit": _DEPOSIT,
    "deposit_missing": _DEPOSIT,
}

# Fields an action uses (a field not named here is for every action, e.g. the reason).
FIELDS_FOR: dict[str, dict[str, frozenset[str]]] = {
    "eligibility": {"coverage": frozenset({"corrected_coverage"})},
    "visit_eligibility": {"coverage": frozenset({"corrected_coverage"})},
    "scrub": {"corrections": frozenset({"corrected_fields"})},
    "rejection": {"corrections": frozenset({"resubmit"})},
    "denial": {
        "corrections": frozenset({"corrected_claim"}),
        "appeal_level": frozenset({"appeal"}),
        "argument": frozenset({"appeal"}),
        "document_ids": frozenset({"appeal"}),
        "waiver_document_id": frozenset({"bill_patient"}),
    },
    "status": {"document_ids": frozenset({"documents_sent"})},
    "remittance": {"claim_payment_id": frozenset({"repost"}), "claim_id": frozenset({"repost"})},
    "refund": {"method": frozenset({"approve"}), "reference": frozenset({"approve"})},
    "payment_plan": {"new_due_date": frozenset({"reschedule"})},
    "deposit": {
        "remittance_id": frozenset({"match"}),
        "deposit_id": frozenset({"match"}),
        "accept_difference": frozenset({"match"}),
    },
}
FIELDS_FOR["deposit_missing"] = FIELDS_FOR["deposit"]

# Eligibility outcome → the action to start from.
_ELIGIBILITY_ACTION = {"error": "hold"}
_STATUS_ACTION = {"information_requested": "documents_sent", "pending_too_long": "called_payer"}
_FIRST_ACTION = {
    "scrub": "corrected_fields",
    "rejection": "resubmit",
    "refund": "approve",
    "payment_plan": "reschedule",
    "collections": "contacted",
    "deposit": "match",
    "deposit_missing": "match",
}


@dataclass(frozen=True)
class Option:
    value: Any
    label: str


@dataclass(frozen=True)
class Suggestion:
    action: str
    why: str


@dataclass(frozen=True)
class LineNow:
    """A claim line as it stands: the starting values of its correction."""

    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    charge: Decimal


@dataclass(frozen=True)
class Lookups:
    """What pickers choose from, beyond the task itself (no PHI)."""

    payers: tuple[Option, ...] = ()  # EDI id → "Name (EDI id)"
    procedure_codes: tuple[str, ...] = ()  # the office's fee schedules
    diagnosis_codes: tuple[str, ...] = ()  # the office's most used ICD-10-CM codes


@dataclass
class FormPlan:
    kind: str
    actions: list[Option]
    suggestion: Suggestion | None
    defaults: dict[str, Any] = field(default_factory=dict)  # field path → starting value
    options: dict[str, list[Option]] = field(default_factory=dict)  # field path → picker
    lines: list[LineNow] = field(default_factory=list)

    def uses(self, name: str, action: str | None) -> bool:
        """Whether the top-level field ``name`` belongs to ``action``'s form."""
        wanted = FIELDS_FOR.get(self.kind, {}).get(name)
        return wanted is None or action in wanted

    def action_index(self) -> int:
        values = [o.value for o in self.actions]
        if self.suggestion and self.suggestion.action in values:
            return values.index(self.suggestion.action)
        return 0


def read_lookups(engine: Engine, *, username: str, limit: int = 200) -> Lookups:
    """Payers, fee-schedule codes and the office's usual diagnoses, for the task page."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), "task.view")
        payers = session.exec(select(Payer).order_by(col(Payer.name))).all()
        codes = session.exec(
            select(FeeSchedule.code).distinct().order_by(col(FeeSchedule.code)).limit(limit)
        ).all()
        diagnoses = session.exec(
            select(Diagnosis.code).distinct().order_by(col(Diagnosis.code)).limit(limit)
        ).all()
    return Lookups(
        payers=tuple(Option(p.payer_id, f"{p.name} ({p.payer_id})") for p in payers),
        procedure_codes=tuple(codes),
        diagnosis_codes=tuple(diagnoses),
    )


@cache
def diagnosis_words(code: str) -> str | None:
    """The ICD-10-CM title of ``code`` (None when the code set does not have it)."""
    if not look_up_icd10cm(code).exists:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm  # loaded once by look_up_icd10cm above

    return str(simple_icd_10_cm.get_description(code.strip().upper()))


def diagnosis_label(code: str) -> str:
    words = diagnosis_words(code)
    return f"{code} {words}" if words else f"{code} (not in ICD-10-CM)"


@cache
def place_of_service_options() -> tuple[Option, ...]:
    # The list's text is "Name - description": the name is what a biller reads.
    return tuple(
        Option(c.code, f"{c.code} {c.text.split(' - ', 1)[0]}") for c in load("pos") if c.active
    )


def schema_actions(schema: dict[str, Any]) -> list[str]:
    """The actions the task's stored schema allows (an appeal may have been taken out)."""
    node = dict(schema.get("properties", {}).get("action", {}))
    return [str(a) for a in node.get("enum") or ([node["const"]] if "const" in node else [])]


def _other_payer(view: TaskView, payers: tuple[Option, ...]) -> tuple[str | None, str | None]:
    """(name, EDI id) of the primary payer the 271 named, when the eligibility check stored it."""
    check_id = view.task.context.get("eligibility_check_id")
    checks = [c for c in view.eligibility if c.id == check_id] or view.eligibility[:1]
    if not checks:
        return None, None
    summary = summarize(checks[0].benefits)
    if not summary.other_payer:
        return None, None
    known = {str(o.value).upper(): o for o in payers}
    match = known.get((summary.other_payer_id or "").upper()) or next(
        (o for o in payers if o.label.rsplit(" (", 1)[0].upper() == summary.other_payer.upper()),
        None,
    )
    if match is None:  # named by the payer but not on file: the person adds it first
        return f"{summary.other_payer} (not on file: add the payer first)", None
    return match.label, str(match.value)


def suggest(
    view: TaskView, actions: list[str], other_payer: str | None = None
) -> Suggestion | None:
    """The action to start from and why, from the task's context; None when there is none."""
    kind, context = view.task.kind, view.task.context
    reason = why_in_queue(kind, context)
    match kind:
        case "denial":
            action = str(context.get("suggested_action") or "")
            why = f"{reason.why}: the routing table for this code says {reason.action}."
        case "eligibility":
            outcome = str(context.get("outcome") or "")
            action = _ELIGIBILITY_ACTION.get(outcome, "corrected_coverage")
            why = f"The 271 says {reason.why}."
            if outcome == "other_primary" and other_payer:
                why = f"The 271 names another primary payer, {other_payer}: re-bill to it."
        case "status":
            action = _STATUS_ACTION.get(str(context.get("reason")), "called_payer")
            why = f"The payer's answer: {reason.why}."
        case "appeal_send":
            electronic = bool(view.payer and view.payer.electronic_appeals)
            action = "send_electronic" if electronic else "sent_mail"
            why = (
                "The payer takes appeals electronically."
                if electronic
                else ("The payer takes no electronic appeals: print, sign and mail the letter.")
            )
        case "remittance":
            unmatched = "unmatched_claims" in (context.get("reasons") or [])
            action = "repost" if unmatched else "resolved"
            why = f"The 835: {reason.why}."
        case _:
            action = _FIRST_ACTION.get(kind, "")
            why = f"{reason.why[:1].upper()}{reason.why[1:]}: {reason.action}."
    return Suggestion(action, why) if action in actions else None


def _lines(view: TaskView) -> list[LineNow]:
    return [
        LineNow(
            line.line_number,
            line.procedure_code,
            tuple(line.modifiers),
            Decimal(line.units),
            Decimal(line.charge),
        )
        for line in view.lines
    ]


def _argument(view: TaskView) -> str:
    context, claim = view.task.context, view.claim
    reason = why_in_queue("denial", context)
    number = f"claim {claim.patient_control_number}" if claim else "this claim"
    return (
        f"We ask you to reconsider the denial of {number} ({reason.why}). "
        "The service was billed as performed and documented; the records attached show it."
    )


def plan_form(view: TaskView, lookups: Lookups) -> FormPlan:
    """Everything the decision form starts from, for this task."""
    task, claim = view.task, view.claim
    actions = schema_actions(task.decision_schema)
    other_name, other_id = (
        _other_payer(view, lookups.payers) if task.kind == "eligibility" else (None, None)
    )
    sentences = ACTION_SENTENCES.get(task.kind, {})
    plan = FormPlan(
        kind=task.kind,
        actions=[Option(a, sentences.get(a, a.replace("_", " "))) for a in actions],
        suggestion=suggest(view, actions, other_name),
        lines=_lines(view),
    )
    plan.options["coverage.payer_id"] = list(lookups.payers)
    plan.options["corrections.place_of_service"] = list(place_of_service_options())
    current_dx = [d.code for d in view.diagnoses]
    dx = list(dict.fromkeys([*current_dx, *lookups.diagnosis_codes]))
    plan.options["corrections.diagnoses"] = [Option(c, diagnosis_label(c)) for c in dx]
    codes = list(
        dict.fromkeys([*(line.procedure_code for line in plan.lines), *lookups.procedure_codes])
    )
    plan.options["corrections.lines.procedure_code"] = [Option(c, c) for c in codes]
    documents = [
        Option(d.id, f"{d.kind.replace('_', ' ')} · {d.created_at:%Y-%m-%d} · #{d.id}")
        for d in view.documents
    ]
    for name in ("document_ids", "waiver_document_id"):
        plan.options[name] = documents
    if claim is not None:
        plan.defaults["corrections.place_of_service"] = claim.place_of_service
        plan.defaults["corrections.diagnoses"] = current_dx
    coverage = view.coverage
    if task.kind == "eligibility" and coverage is not None:
        if other_name:  # a new coverage at the other payer: its member id is not known here
            plan.defaults["coverage.payer_id"] = other_id
            plan.defaults["coverage.effective_from"] = claim.service_from if claim else None
        else:
            plan.defaults.update(
                {
                    "coverage.payer_id": view.payer.payer_id if view.payer else None,
                    "coverage.member_id": coverage.member_id,
                    "coverage.group_number": coverage.group_number,
                    "coverage.effective_from": coverage.effective_from,
                    "coverage.effective_to": coverage.effective_to,
                }
            )
    if task.kind == "denial":
        plan.defaults["appeal_level"] = 1
        plan.defaults["argument"] = _argument(view)
    return plan


def corrections_changed(values: dict[str, Any], plan: FormPlan) -> dict[str, Any]:
    """Only what the person changed: a field left as the claim has it is no correction."""
    changed: dict[str, Any] = {}
    for name in ("place_of_service", "diagnoses", "authorization_number"):
        value = values.get(name)
        if value not in (None, "", []) and value != plan.defaults.get(f"corrections.{name}"):
            changed[name] = value
    now = {line.line_number: line for line in plan.lines}
    fixes = []
    for fix in values.get("lines") or []:
        line = now.get(int(fix["line_number"]))
        if line is None:
            continue
        given = {key: _normal(key, fix[key]) for key in _LINE_FIELDS if fix.get(key) is not None}
        diff = {
            key: value for key, value in given.items() if value != _normal(key, getattr(line, key))
        }
        if diff:
            fixes.append({"line_number": line.line_number, **diff})
    if fixes:
        changed["lines"] = fixes
    return changed


_LINE_FIELDS = ("procedure_code", "modifiers", "units", "charge")


def _normal(key: str, value: Any) -> Any:
    """A line value as the decision carries it (amounts as exact decimals, cents for money)."""
    if key in ("units", "charge"):
        amount = Decimal(str(value))
        return amount.quantize(Decimal("0.01")) if key == "charge" else amount
    if key == "modifiers":
        return [str(m).strip().upper() for m in value if str(m).strip()]
    return str(value).strip().upper()


_FIELD_WORDS = (
    ("argument", "argument"),
    ("corrected coverage", "coverage"),
    ("correction", "corrections"),
    ("refund method", "method"),
    ("new due date", "new_due_date"),
    ("claim payment", "claim_payment_id"),
    ("reason", "reason"),
)


def problems_by_field(problems: list[str]) -> dict[str, list[str]]:
    """'field: message' strings (``check_decision``, a refusal) by the form field they name.

    A whole-decision problem ("an appeal needs an argument") goes to the field its words
    name; one naming none stays at ``decision`` (shown by the action).
    """
    found: dict[str, list[str]] = {}
    for problem in problems:
        where, _, message = problem.partition(": ")
        if not message:
            where, message = "decision", problem
        where = where.removeprefix("decision.") if where != "decision" else where
        message = message.removeprefix("Value error, ")
        if where == "decision":
            lowered = message.lower()
            where = next((f for words, f in _FIELD_WORDS if words in lowered), "decision")
        found.setdefault(where, []).append(message)
    return found
