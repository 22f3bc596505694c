"""What a specialist can decide on each kind of review task.

The flow waits for a *reference* to a decision (``DecisionRef``), never the
decision itself: decisions hold PHI (corrected coverage, claim fields) and
Prefect stores run input in its own database. The models here validate the
decision in claimdesk's service layer and give the app its form (their JSON
schema is stored on the task).

Each model names its review kind (``kind``) and what the task is about (``subject``:
the context key its task carries, e.g. a denial's tasks carry ``denial_id``). Who may
resolve a kind, its SLA, its check and its applier are the kind's row in
``claimdesk.workqueue.kinds``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DecisionRef(BaseModel):
    """The only thing a suspended flow receives: the id of a decision claimdesk recorded."""

    decision_id: int = Field(gt=0)


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    kind: ClassVar[str] = ""
    # What the task is about: "claim" (the task's claim_id), or its context key naming it.
    subject: ClassVar[str] = "claim"

    # Free text is stored and shown as text, never rendered as HTML or executed.
    reason: str | None = Field(default=None, max_length=1000)


class LineCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_number: int = Field(ge=1, le=50)
    procedure_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[str] | None = Field(default=None, max_length=4)
    units: Decimal | None = Field(default=None, gt=0, le=999)
    charge: Decimal | None = Field(default=None, gt=0, le=Decimal("999999.99"), decimal_places=2)
    diagnosis_pointers: list[int] | None = Field(default=None, min_length=1, max_length=4)


class ClaimCorrections(BaseModel):
    """Fields a specialist may correct on a claim before it goes (again) to the payer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    place_of_service: str | None = Field(default=None, pattern=r"^\d{2}$")
    diagnoses: list[str] | None = Field(default=None, min_length=1, max_length=12)
    authorization_number: str | None = Field(default=None, max_length=50)
    lines: list[LineCorrection] = Field(default_factory=list, max_length=50)

    def is_empty(self) -> bool:
        return not (
            self.place_of_service or self.diagnoses or self.authorization_number or self.lines
        )


class CoverageCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_id: str = Field(min_length=2, max_length=80, description="Payer's EDI id")
    member_id: str = Field(min_length=1, max_length=80)
    group_number: str | None = Field(default=None, max_length=50)
    effective_from: date
    effective_to: date | None = None


class EligibilityDecision(_Decision):
    kind: ClassVar[str] = "eligibility"

    action: Literal["corrected_coverage", "self_pay", "hold"]
    coverage: CoverageCorrection | None = None

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "corrected_coverage" and self.coverage is None:
            raise ValueError("corrected_coverage needs the corrected coverage")
        if self.action == "hold" and not self.reason:
            raise ValueError("a hold needs a reason")
        return self


class VisitEligibilityDecision(_Decision):
    """A scheduled visit whose coverage the 271 did not confirm (no claim yet)."""

    kind: ClassVar[str] = "visit_eligibility"
    subject: ClassVar[str] = "appointment_id"

    action: Literal["corrected_coverage", "self_pay", "patient_contacted", "visit_cancelled"]
    coverage: CoverageCorrection | None = None

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "corrected_coverage" and self.coverage is None:
            raise ValueError("corrected_coverage needs the corrected coverage")
        if self.action in ("patient_contacted", "visit_cancelled") and not self.reason:
            raise ValueError(f"{self.action} needs a reason")
        return self


class ScrubDecision(_Decision):
    kind: ClassVar[str] = "scrub"

    action: Literal["corrected_fields", "override", "cancel"]
    corrections: ClaimCorrections = Field(default_factory=ClaimCorrections)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "corrected_fields" and self.corrections.is_empty():
            raise ValueError("corrected_fields needs at least one correction")
        if self.action in ("override", "cancel") and not self.reason:
            raise ValueError(f"{self.action} needs a reason")
        return self


class RejectionDecision(_Decision):
    """A rejected claim was never adjudicated: it is corrected and sent as a new original (1)."""

    kind: ClassVar[str] = "rejection"

    action: Literal["resubmit", "cancel"]
    corrections: ClaimCorrections = Field(default_factory=ClaimCorrections)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "cancel" and not self.reason:
            raise ValueError("cancel needs a reason")
        return self


class BatchRejectionDecision(_Decision):
    """A rejected transaction set (999 IK5*R): resend its claims or hold them."""

    kind: ClassVar[str] = "batch_rejection"
    subject: ClassVar[str] = "submission_id"

    action: Literal["resubmit_all", "hold_all"]


class DenialDecision(_Decision):
    """How a specialist works one denial (``Denial`` row named in the task's context).

    The denial itself decides some refusals at apply time (``denial_service``): no appeal
    for a denial without appeal rights, no patient bill outside the PR group without a
    waiver on file, no write-off above the threshold without a lead.
    """

    kind: ClassVar[str] = "denial"
    subject: ClassVar[str] = "denial_id"

    action: Literal["corrected_claim", "appeal", "bill_secondary", "bill_patient", "write_off"]
    corrections: ClaimCorrections = Field(default_factory=ClaimCorrections)
    appeal_level: int | None = Field(default=None, ge=1, le=5)
    argument: str | None = Field(default=None, max_length=4000)
    document_ids: list[int] = Field(default_factory=list, max_length=20)
    waiver_document_id: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "appeal" and not self.argument:
            raise ValueError("an appeal needs an argument")
        if self.action == "write_off" and not self.reason:
            raise ValueError("a write-off needs a reason")
        if self.action == "corrected_claim" and self.corrections.is_empty() and not self.reason:
            raise ValueError("a corrected claim needs corrections or a reason saying what changed")
        return self


class WriteOffApprovalDecision(_Decision):
    """A lead's answer to a write-off above the threshold."""

    kind: ClassVar[str] = "write_off_approval"
    subject: ClassVar[str] = "denial_id"

    action: Literal["approve", "reject"]

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "reject" and not self.reason:
            raise ValueError("a rejection needs a reason")
        return self


class RemittanceDecision(_Decision):
    """A remittance exception worked by hand (unbalanced file, unmatched claim, underpayment)."""

    kind: ClassVar[str] = "remittance"
    subject: ClassVar[str] = "remittance_id"

    action: Literal["resolved", "repost", "dismiss"]
    # repost: the unmatched CLP (claim payment id) and the claim it is.
    claim_payment_id: int | None = Field(default=None, gt=0)
    claim_id: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action in ("resolved", "dismiss") and not self.reason:
            raise ValueError(f"{self.action} needs a reason")
        if self.action == "repost" and (self.claim_payment_id is None or self.claim_id is None):
            raise ValueError("repost needs the claim payment and the claim it belongs to")
        return self


class StatusDecision(_Decision):
    """A claim stuck at the payer (asked for information, not on file, pending too long)."""

    kind: ClassVar[str] = "status"

    action: Literal["documents_sent", "called_payer", "keep_waiting"]
    document_ids: list[int] = Field(default_factory=list, max_length=20)
    # Ask again (a new task if still stuck) after this many days on claimdesk's clock.
    follow_up_days: int = Field(default=14, ge=1, le=90)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if not self.reason:
            raise ValueError(f"{self.action} needs a reason (what was done, call reference)")
        return self


class AppealSendDecision(_Decision):
    """The appeal letter reviewed: send it through the payer's channel, or say how it went."""

    kind: ClassVar[str] = "appeal_send"
    subject: ClassVar[str] = "denial_id"

    action: Literal["send_electronic", "sent_fax", "sent_mail"]


# --- Patient balances and cash (issue 8) ---------------------------------------------------


class RefundDecision(_Decision):
    """A credit balance (``Refund`` named in the task's context): give it back, or not."""

    kind: ClassVar[str] = "refund"
    subject: ClassVar[str] = "patient_id"

    action: Literal["approve", "dismiss"]
    method: Literal["check", "eft", "card", "offset"] | None = None
    reference: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "approve" and self.method is None:
            raise ValueError("approve needs the refund method")
        if self.action == "dismiss" and not self.reason:
            raise ValueError("dismiss needs a reason")
        return self


class PaymentPlanDecision(_Decision):
    """A missed installment: move its due date, forgive it, or end the plan."""

    kind: ClassVar[str] = "payment_plan"
    subject: ClassVar[str] = "plan_id"

    action: Literal["reschedule", "waive", "cancel_plan"]
    new_due_date: date | None = None

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "reschedule" and self.new_due_date is None:
            raise ValueError("reschedule needs the new due date")
        if self.action in ("waive", "cancel_plan") and not self.reason:
            raise ValueError(f"{self.action} needs a reason")
        return self


class CollectionsDecision(_Decision):
    """An aged patient balance followed up."""

    kind: ClassVar[str] = "collections"
    subject: ClassVar[str] = "patient_id"

    action: Literal["contacted", "payment_plan", "send_to_agency", "write_off"]

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if not self.reason:
            raise ValueError(f"{self.action} needs a reason (what was done or agreed)")
        return self


class DepositDecision(_Decision):
    """A deposit without its 835, an 835 without its deposit, or amounts that differ."""

    kind: ClassVar[str] = "deposit"
    subject: ClassVar[str] = "deposit_id"

    action: Literal["match", "dismiss"]
    # match: the other side (an 835 for a deposit task, a deposit for a missing-deposit task).
    remittance_id: int | None = Field(default=None, gt=0)
    deposit_id: int | None = Field(default=None, gt=0)
    accept_difference: bool = False

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.action == "dismiss" and not self.reason:
            raise ValueError("dismiss needs a reason")
        if self.accept_difference and not self.reason:
            raise ValueError("accepting a difference needs a reason")
        return self


class DepositMissingDecision(DepositDecision):
    """An 835 whose money never arrived: the same choices as a deposit without its 835."""

    kind: ClassVar[str] = "deposit_missing"
    subject: ClassVar[str] = "remittance_id"


def _kinds(base: type[_Decision]) -> dict[str, type[_Decision]]:
    found: dict[str, type[_Decision]] = {}
    for model in base.__subclasses__():
        if model.kind:
            found[model.kind] = model
        found.update(_kinds(model))
    return found


# Derived from the models above (each names its kind once), never listed by hand.
DECISION_MODELS: dict[str, type[_Decision]] = _kinds(_Decision)


def decision_model(kind: str) -> type[_Decision]:
    try:
        return DECISION_MODELS[kind]
    except KeyError:
        raise KeyError(f"no decision model for review kind {kind!r}") from None


def decision_schema(kind: str) -> dict[str, Any]:
    return decision_model(kind).model_json_schema()


def kinds_about(subject: str) -> tuple[str, ...]:
    """The review kinds whose tasks are about ``subject`` (e.g. ``"denial_id"``)."""
    return tuple(sorted(k for k, m in DECISION_MODELS.items() if m.subject == subject))
