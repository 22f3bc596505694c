"""A 271's benefits in plain words, and what a visit will likely cost the patient.

The 271 says it in codes (EB01 B copay, C deductible, A coinsurance, G out-of-pocket,
R other payer; EB06 time period 23 calendar year, 29 remaining; EB12 in network). Here
they become labelled amounts a front desk can read, preferring in-network figures, and
an estimate of the patient's share of an allowed amount: the copay where one applies,
else the deductible still to meet, then coinsurance on the rest, capped by what is left
of the out-of-pocket maximum. An estimate, worded as one: the payer's 835 decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from claimdesk.x12 import Eligibility271

# X12 service type codes a practice meets most (EB03); others show as their code.
SERVICE_TYPES = {
    "1": "medical care",
    "30": "health benefit plan coverage",
    "33": "chiropractic",
    "35": "dental care",
    "47": "hospital",
    "48": "hospital inpatient",
    "50": "hospital outpatient",
    "86": "emergency services",
    "88": "pharmacy",
    "98": "office visit (professional)",
    "A3": "home health",
    "AL": "vision",
    "BZ": "physician visit - office: well",
    "MH": "mental health",
    "PT": "physical therapy",
    "UC": "urgent care",
}
_REMAINING = "29"
_TOTAL_PERIODS = {"23", "24", "25", "22", "32", "27"}  # calendar/service/plan year, visit …
_PLAN_BEGIN, _PLAN_END, _PLAN_RANGE = "346", "347", "291"
_ZERO = Decimal("0")


def service_type_words(code: str) -> str:
    return SERVICE_TYPES.get(code, f"service type {code}")


def stored_benefits(reply: Eligibility271) -> list[dict[str, Any]]:
    """The 271's benefits as stored on the check: codes, amounts, dates, words, other payers."""
    rows: list[dict[str, Any]] = [
        {
            "info": "plan_dates",
            "periods": [_period(p) for p in (*reply.subscriber_periods, *reply.dependent_periods)],
        }
    ]
    for b in reply.benefits:
        rows.append(
            {
                "info": b.info_code,
                "level": b.coverage_level,
                "service_types": list(b.service_types),
                "period": b.time_period,
                "amount": str(b.amount) if b.amount is not None else None,
                "percent": str(b.percent) if b.percent is not None else None,
                "network": b.in_network,
                "insurance_type": b.insurance_type,
                "plan": b.plan_description,
                "periods": [_period(p) for p in b.periods],
                "messages": list(b.messages),
                "entities": [
                    {"code": e.entity_code, "name": e.name, "id": e.id} for e in b.related_entities
                ],
            }
        )
    return rows


def _period(p: Any) -> dict[str, str | None]:
    return {
        "qualifier": p.qualifier,
        "start": p.start.isoformat() if p.start else None,
        "end": p.end.isoformat() if p.end else None,
    }


@dataclass(frozen=True)
class BenefitSummary:
    """Labelled amounts; None where the payer did not say."""

    active: bool
    plan: str | None = None
    plan_begins: date | None = None
    plan_ends: date | None = None
    copays: dict[str, Decimal] = field(default_factory=dict)  # service type words → amount
    deductible: Decimal | None = None
    deductible_remaining: Decimal | None = None
    coinsurance: Decimal | None = None  # the patient's share, 0.20 = 20 %
    out_of_pocket: Decimal | None = None
    out_of_pocket_remaining: Decimal | None = None
    other_payer: str | None = None
    other_payer_id: str | None = None
    messages: tuple[str, ...] = ()

    def labelled(self) -> list[tuple[str, str]]:
        """(label, value) rows for a page or the CLI; amounts as money, dates ISO."""

        def money(v: Decimal | None) -> str:
            return f"${v:,.2f}" if v is not None else "—"

        rows = [("Coverage", "active" if self.active else "not active")]
        if self.plan:
            rows.append(("Plan", self.plan))
        if self.plan_begins or self.plan_ends:
            begins = self.plan_begins.isoformat() if self.plan_begins else "?"
            ends = self.plan_ends.isoformat() if self.plan_ends else "open"
            rows.append(("Plan dates", f"{begins} to {ends}"))
        rows += [(f"Copay: {service}", money(amount)) for service, amount in self.copays.items()]
        rows += [
            ("Deductible", money(self.deductible)),
            ("Deductible remaining", money(self.deductible_remaining)),
            (
                "Coinsurance",
                f"{self.coinsurance * 100:.0f}%" if self.coinsurance is not None else "—",
            ),
            ("Out-of-pocket maximum", money(self.out_of_pocket)),
            ("Out-of-pocket remaining", money(self.out_of_pocket_remaining)),
        ]
        if self.other_payer:
            rows.append(("Other payer", f"{self.other_payer} ({self.other_payer_id or 'no id'})"))
        rows += [("Payer's message", m) for m in self.messages]
        return rows


def _money(row: dict[str, Any]) -> Decimal | None:
    return Decimal(row["amount"]) if row.get("amount") is not None else None


def _pick(rows: list[dict[str, Any]], info: str, periods: set[str]) -> Decimal | None:
    """The in-network figure if the payer gave one, else any, for these time periods."""
    found = [r for r in rows if r.get("info") == info and r.get("period") in periods]
    found.sort(key=lambda r: (r.get("network") != "Y", r.get("level") != "IND"))
    for row in found:
        if (value := _money(row)) is not None:
            return value
    return None


def summarize(rows: list[dict[str, Any]]) -> BenefitSummary:
    """Read stored benefit rows (``stored_benefits``, or the older shorter ones)."""
    infos = {r.get("info") for r in rows}
    plan_rows = [r for r in rows if r.get("info") in {"1", "plan_dates"}]
    periods = [p for r in plan_rows for p in r.get("periods") or []]
    begins = next(
        (p["start"] for p in periods if p["qualifier"] in (_PLAN_BEGIN, _PLAN_RANGE)), None
    )
    ends = next(
        (p["end"] or p["start"] for p in periods if p["qualifier"] == _PLAN_END),
        next((p["end"] for p in periods if p["qualifier"] == _PLAN_RANGE), None),
    )
    copays: dict[str, Decimal] = {}
    for row in sorted(rows, key=lambda r: r.get("network") != "Y"):  # in network first
        if row.get("info") == "B" and (amount := _money(row)) is not None:
            for code in row.get("service_types") or ["30"]:
                copays.setdefault(service_type_words(code), amount)
    coinsurance = next(
        (
            Decimal(r["percent"])
            for r in sorted(rows, key=lambda r: r.get("network") != "Y")
            if r.get("info") == "A" and r.get("percent") is not None
        ),
        None,
    )
    other = next((r for r in rows if r.get("info") == "R"), None)
    entity = (other.get("entities") or [{}])[0] if other else {}
    return BenefitSummary(
        active=bool(infos & {"1", "2", "3", "4", "5"}),
        plan=next((r.get("plan") for r in rows if r.get("info") == "1" and r.get("plan")), None),
        plan_begins=date.fromisoformat(begins) if begins else None,
        plan_ends=date.fromisoformat(ends) if ends else None,
        copays=copays,
        deductible=_pick(rows, "C", _TOTAL_PERIODS),
        deductible_remaining=_pick(rows, "C", {_REMAINING}),
        coinsurance=coinsurance,
        out_of_pocket=_pick(rows, "G", _TOTAL_PERIODS),
        out_of_pocket_remaining=_pick(rows, "G", {_REMAINING}),
        other_payer=(entity.get("name") or (other.get("plan") if other else None)) or None,
        other_payer_id=entity.get("id") or None,
        messages=tuple(m for r in rows for m in r.get("messages") or []),
    )


@dataclass(frozen=True)
class Estimate:
    allowed: Decimal
    patient: Decimal
    payer: Decimal
    basis: str  # how it was worked out, in words

    def line(self) -> str:
        return f"estimate: patient ${self.patient:,.2f}, payer ${self.payer:,.2f} ({self.basis})"


def estimate_patient_share(
    summary: BenefitSummary, allowed: Decimal, *, service_type: str = "98"
) -> Estimate:
    """The patient's likely share of ``allowed`` for a visit of ``service_type``."""
    if not summary.active:
        return Estimate(allowed, allowed, _ZERO, "no active coverage: self-pay")
    copay = summary.copays.get(service_type_words(service_type))
    if copay is not None:
        patient = min(copay, allowed)
        return Estimate(
            allowed, patient, allowed - patient, f"copay for {service_type_words(service_type)}"
        )
    deductible = min(summary.deductible_remaining or _ZERO, allowed)
    rest = allowed - deductible
    share = (rest * (summary.coinsurance or _ZERO)).quantize(Decimal("0.01"))
    patient = deductible + share
    basis = f"deductible ${deductible:,.2f}"
    if summary.coinsurance is not None:
        basis += f" + {summary.coinsurance * 100:.0f}% coinsurance on ${rest:,.2f}"
    if summary.out_of_pocket_remaining is not None and patient > summary.out_of_pocket_remaining:
        patient = summary.out_of_pocket_remaining
        basis += ", capped at the out-of-pocket remaining"
    return Estimate(allowed, patient, allowed - patient, basis)
