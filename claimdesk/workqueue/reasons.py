"""Why a task is in the queue and what to do, in one line of plain words.

Read from the task's kind and its context (codes and ids, never PHI), with the payer's
codes in their published words (``claimdesk.codes``). The queue shows the line on each
row; the task page puts it at the top. A kind or context this module does not know
still gets a line: the kind in words and "open the task".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from claimdesk.codes.meanings import (
    UNKNOWN,
    carc_meaning,
    rarc_meaning,
    status_meaning,
    stc_meaning,
)
from claimdesk.eligibility.visits import visit_reason

ACTIONS = {
    "corrected_claim": "correct and resubmit",
    "appeal": "appeal",
    "bill_secondary": "bill the secondary payer",
    "bill_patient": "bill the patient",
    "write_off": "write off",
    "none": "review",
}
_ELIGIBILITY = {
    "inactive": (
        "coverage is not active on the date of service",
        "correct the coverage or self-pay",
    ),
    "unknown_member": ("the payer does not know the member", "check the member id"),
    "mismatch": ("the payer's member details differ (name or birth date)", "correct the coverage"),
    "rejected": ("the payer rejected the eligibility inquiry", "check the coverage and ask again"),
    "other_primary": ("another payer is primary", "re-bill to the other payer"),
    "error": ("the payer could not answer", "ask again or call the payer"),
    "unbuildable": ("the 270 cannot be built", "fix the field named"),
}
_STATUS = {
    "information_requested": "the payer asks for information",
    "not_on_file": "the payer has no record of the claim",
    "rejected_by_payer": "the payer rejected the claim",
    "pending_too_long": "pending over 30 days",
    "remittance_missing": "finalized, but no 835 arrived",
    "inquiry_unbuildable": "the 276 cannot be built",
}
_REMITTANCE = {
    "unbalanced": "the 835 does not balance",
    "trace_conflict": "the same trace number came with other amounts",
    "unmatched_claims": "claims in the 835 match no claim here",
    "underpayment": "paid below the fee schedule",
    "unreadable": "the 835 cannot be read",
}


@dataclass(frozen=True)
class Reason:
    why: str
    action: str

    def line(self) -> str:
        return f"{self.why} · {self.action}"


def _words(text: str) -> str:
    return "" if text == UNKNOWN else text.rstrip(".")


def _denial(context: dict[str, Any]) -> Reason:
    group, carc = context.get("group_code", ""), context.get("reason_code", "")
    parts = [f"{group}-{carc}".strip("-")]
    remarks = [str(r) for r in context.get("remark_codes") or []]
    if remarks:
        parts[0] += " + " + " ".join(remarks)
    meaning = _words(carc_meaning(str(carc))) if carc else ""
    if remarks and (rarc := _words(rarc_meaning(remarks[0]))):
        meaning = f"{meaning}; {rarc}" if meaning else rarc
    why = f"{parts[0]}: {meaning}" if meaning else f"{parts[0]} (code not in the lists)"
    action = ACTIONS.get(str(context.get("suggested_action")), "review the denial")
    if context.get("queue") == "triage":
        action = "triage: decide how to work this code"
    if context.get("appealable") is False and action == "appeal":
        action = "no appeal rights: correct or write off"
    return Reason(why, action)


def _eligibility(context: dict[str, Any]) -> Reason:
    outcome = str(context.get("outcome", ""))
    why, action = _ELIGIBILITY.get(outcome, ("coverage needs checking", "check the coverage"))
    if outcome == "unbuildable" and context.get("field"):
        why = f"{why}: {context['field']} ({context.get('rule', 'invalid')})"
    codes = [str(c) for c in context.get("rejection_codes") or []]
    if codes:
        why = f"{why} (AAA {', '.join(codes)})"
    return Reason(why, action)


def _scrub(context: dict[str, Any]) -> Reason:
    findings = context.get("findings") or []
    if findings:
        first = findings[0]
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        return Reason(f"{first.get('field')}: {first.get('message')}{more}", "correct the claim")
    errors = context.get("errors") or []
    if errors:
        field = context.get("field", "the claim")
        return Reason(f"{field}: {', '.join(map(str, errors))}", "correct the claim")
    return Reason("the scrub held the claim", "correct, override or cancel")


def why_in_queue(kind: str, context: dict[str, Any]) -> Reason:
    """The task's reason and suggested action (codes in words, no PHI)."""
    match kind:
        case "denial":
            return _denial(context)
        case "eligibility":
            return _eligibility(context)
        case "visit_eligibility":
            return Reason(*visit_reason(context))
        case "scrub":
            return _scrub(context)
        case "rejection":
            stc = [str(s) for s in context.get("stc") or []]
            words = stc_meaning(stc[0]) if stc else ""
            why = f"rejected by the payer: {words or 'see the 277CA'}"
            return Reason(why, "correct and resubmit")
        case "batch_rejection":
            return Reason("the payer rejected a whole batch (999/TA1)", "resend or hold the claims")
        case "status":
            reason = str(context.get("reason", ""))
            why = _STATUS.get(reason, "the claim's status needs a look")
            codes = context.get("category_code"), context.get("status_code")
            if codes[0]:
                why = f"{why}: {status_meaning(codes[0], codes[1])}"
            return Reason(why, "call or check the payer portal, set a follow-up")
        case "remittance":
            reasons = [_REMITTANCE.get(str(r), str(r)) for r in context.get("reasons") or []]
            return Reason("; ".join(reasons) or "the 835 needs a person", "match or post by hand")
        case "appeal_send":
            return Reason(
                f"level {context.get('level', '?')} appeal letter ready", "review and send"
            )
        case "write_off_approval":
            return Reason("a write-off above the threshold", "approve or send back")
        case "refund":
            return Reason(f"credit balance of {context.get('amount', '?')}", "approve the refund")
        case "payment_plan":
            return Reason(
                f"installment {context.get('number', '?')} missed", "reschedule, waive or cancel"
            )
        case "collections":
            balance, days = context.get("balance", "?"), context.get("days", "?")
            why = f"patient balance {balance} aged {days} days"
            return Reason(why, "contact the patient or offer a plan")
        case "deposit" | "deposit_missing":
            issue = str(context.get("issue", "")).replace("_", " ") or "deposit to reconcile"
            return Reason(issue, "match it or dismiss with a reason")
    return Reason(kind.replace("_", " "), "open the task")
