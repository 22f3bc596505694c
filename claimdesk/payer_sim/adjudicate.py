"""Adjudication as pure functions: a received claim and the member's benefits in, CLP/CAS out.

Claim-level denials are tried first (the first that applies wins), then each
line is denied by rule or priced against the fee schedule:

    CO-31   the member is not on the roster (normally refused earlier, in the 277CA)
    CO-16   missing data: patient birth date (MOA MA130, LQ N329); a line's procedure
            code malformed (LQ M51) or an 837P line without a diagnosis pointer (LQ M76)
    CO-26   service before coverage;   CO-27 after coverage ended (or member inactive)
    CO-29   received past the payer's timely filing limit
    CO-22   another payer is primary and no COB (2320) data came (MOA MA04)
    CO-18   exact duplicate of an earlier paid claim (member, date, codes)
    CO-197  the code needs a prior authorization and there is no REF*G1 (LQ M62)
    CO-50   not medically necessary for the principal diagnosis (LQ N115)
    CO-4    the payer requires a modifier on the code (``PayerConfig.required_modifiers``)
    CO-97   bundled into another line's service (LQ M15), shared or the payer's own
    paid    CO-45 down to the allowed amount (the payer's rate changes applied), PR-3
            copay (once, on an E/M line), PR-1 deductible, PR-2 coinsurance (capped at
            out-of-pocket remaining), CO-253 2 % sequestration on Medicare-like payers

Every result balances: charge − paid = Σ adjustments, per line and per claim.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from claimdesk.payer_sim.config import PayerConfig, RosterMember, SimConfig
from claimdesk.payer_sim.inbound import InClaim, InLine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SEQUESTRATION = Decimal("0.02")  # Medicare payment sequestration since 2013
_PROCEDURE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$")  # CPT / HCPCS level II
_EVALUATION = re.compile(r"^99(2[0-9]{2}|3[89][0-9])$")  # E/M office and preventive visits


class Cas(BaseModel):
    model_config = ConfigDict(frozen=True)

    group: str
    reason: str
    amount: Decimal


class LineResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    qualifier: str
    procedure: str
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    charge: Decimal
    paid: Decimal
    units: Decimal
    allowed: Decimal | None = None
    service_date: date | None = None
    service_date_end: date | None = None
    control_number: str = ""
    adjustments: tuple[Cas, ...] = ()
    remarks: tuple[str, ...] = ()


class ClaimResult(BaseModel):
    """CLP02-05 and the service lines of one adjudicated claim."""

    model_config = ConfigDict(frozen=True)

    status: str  # CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    lines: tuple[LineResult, ...]
    claim_remarks: tuple[str, ...] = ()  # MOA
    denials: tuple[str, ...] = ()  # CARCs that denied something, for appeals
    deductible_used: Decimal = ZERO
    out_of_pocket_used: Decimal = ZERO


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def duplicate_key(claim: InClaim) -> str:
    """Member, first date of service and the sorted procedure codes."""
    codes = ",".join(sorted(f"{line.procedure}{line.revenue_code}" for line in claim.lines))
    member = (claim.patient or claim.subscriber).member_id or claim.subscriber.member_id
    return f"{claim.subscriber.member_id}|{member}|{claim.first_service_date}|{codes}"


def _claim_denial(
    claim: InClaim,
    member: RosterMember | None,
    payer: PayerConfig,
    received: date,
    paid_keys: Collection[str],
    overturned: Collection[str],
) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(CARC, MOA remarks, LQ remarks) of the first claim-level denial, or None."""
    if member is None:
        return "31", ("MA61",), ()
    person = claim.patient or claim.subscriber
    if person.birth_date is None and "16" not in overturned:
        return "16", ("MA130",), ("N329",)
    first, last = claim.first_service_date, claim.last_service_date
    if first is not None and first < member.coverage_start:
        return "26", (), ("N30",)
    ended = member.coverage_end
    if member.status != "active" and ended is None:
        return "27", (), ("N30",)
    if ended is not None and last is not None and last > ended:
        return "27", (), ("N30",)
    if first is not None and (received - first).days > payer.timely_filing_days:
        return "29", (), ()
    if member.other_payer_primary and not claim.has_other_payer:
        return "22", ("MA04",), ()
    if claim.frequency == "1" and duplicate_key(claim) in paid_keys:
        return "18", (), ("N522",)
    return None


def _line_denial(
    claim: InClaim, index: int, config: SimConfig, payer: PayerConfig, overturned: Collection[str]
) -> tuple[str, tuple[str, ...]] | None:
    line = claim.lines[index]
    code = line.procedure
    malformed = (claim.kind == "P" or code) and not _PROCEDURE.match(code)
    if malformed and "16" not in overturned:
        return "16", ("M51",)
    if claim.kind == "P" and not line.pointers and "16" not in overturned:
        return "16", ("M76",)
    needs_auth = code in config.authorization_required and not claim.prior_authorization
    if needs_auth and "197" not in overturned:
        return "197", ("M62",)
    principal = claim.diagnoses[0] if claim.diagnoses else ""
    for procedure, prefix in config.not_medically_necessary:
        if code == procedure and principal.startswith(prefix) and "50" not in overturned:
            return "50", ("N115",)
    if code in payer.required_modifiers and payer.required_modifiers[code] not in line.modifiers:
        return "4", ()
    for component, primary in (*config.bundles, *payer.bundles):
        others = [other.procedure for n, other in enumerate(claim.lines) if n != index]
        if code == component and any(o.startswith(primary) for o in others):
            return "97", ("M15",)
    return None


def _line_base(line: InLine) -> dict[str, object]:
    return {
        "number": line.number,
        "qualifier": line.qualifier if line.procedure else "NU",
        "procedure": line.procedure or line.revenue_code,
        "modifiers": tuple(line.modifiers),
        "revenue_code": line.revenue_code if line.procedure else "",
        "charge": money(line.charge),
        "units": line.units,
        "service_date": line.service_date,
        "service_date_end": line.service_date_end,
        "control_number": line.control_number,
    }


def _denied_line(line: InLine, carc: str, remarks: tuple[str, ...]) -> LineResult:
    base = _line_base(line)
    charge = base["charge"]
    assert isinstance(charge, Decimal)
    adjustments = (Cas(group="CO", reason=carc, amount=charge),) if charge else ()
    return LineResult(**base, paid=ZERO, adjustments=adjustments, remarks=remarks)


def allowed_amount(
    config: SimConfig,
    procedure: str,
    units: Decimal,
    charge: Decimal,
    *,
    payer: PayerConfig | None = None,
    on: date | None = None,
) -> Decimal:
    """Fee schedule × units (× the payer's rate change in force ``on``), or the default
    share of the charge; never above the charge."""
    rate = config.fee_schedule.get(procedure)
    if rate is not None and payer is not None and on is not None:
        changes = [c for c in payer.rate_changes if c.code == procedure and c.effective <= on]
        if changes:
            rate = money(rate * max(changes, key=lambda c: c.effective).factor)
    allowed = rate * units if rate is not None else charge * config.default_allowed_ratio
    return money(min(allowed, charge))


def adjudicate_claim(
    claim: InClaim,
    *,
    member: RosterMember | None,
    payer: PayerConfig,
    config: SimConfig,
    received: date,
    paid_keys: Collection[str] = (),
    overturned: Collection[str] = (),
) -> ClaimResult:
    """CLP/SVC/CAS for ``claim``; ``overturned`` CARCs (from won appeals) are not applied."""
    denial = _claim_denial(claim, member, payer, received, paid_keys, overturned)
    if denial is not None:
        carc, moa, lq = denial
        lines = tuple(_denied_line(line, carc, lq) for line in claim.lines)
        return _total(claim, lines, "4", moa, (carc,))
    assert member is not None
    deductible = max(member.deductible_remaining, ZERO)
    out_of_pocket = max(member.out_of_pocket_remaining, ZERO)
    copay_due = member.copay
    rate = member.coinsurance_percent / Decimal(100)
    results: list[LineResult] = []
    denials: list[str] = []
    used_deductible = used_oop = ZERO
    for index, line in enumerate(claim.lines):
        line_denial = _line_denial(claim, index, config, payer, overturned)
        if line_denial is not None:
            results.append(_denied_line(line, *line_denial))
            denials.append(line_denial[0])
            continue
        charge = money(line.charge)
        on = line.service_date or claim.first_service_date
        allowed = allowed_amount(config, line.procedure, line.units, charge, payer=payer, on=on)
        remaining = allowed
        copay = ZERO
        if copay_due > 0 and _EVALUATION.match(line.procedure):
            copay = min(copay_due, remaining, out_of_pocket - used_oop)
            copay_due = ZERO
        remaining -= copay
        to_deductible = min(
            deductible - used_deductible, remaining, out_of_pocket - used_oop - copay
        )
        remaining -= to_deductible
        coinsurance = min(money(remaining * rate), out_of_pocket - used_oop - copay - to_deductible)
        remaining -= coinsurance
        sequestration = money(remaining * SEQUESTRATION) if payer.medicare_like else ZERO
        paid = remaining - sequestration
        used_deductible += to_deductible
        used_oop += copay + to_deductible + coinsurance
        adjustments = [
            Cas(group=group, reason=reason, amount=amount)
            for group, reason, amount in (
                ("CO", "45", charge - allowed),
                ("CO", "253", sequestration),
                ("PR", "1", to_deductible),
                ("PR", "2", coinsurance),
                ("PR", "3", copay),
            )
            if amount
        ]
        base = _line_base(line)
        results.append(
            LineResult(**base, paid=paid, allowed=allowed, adjustments=tuple(adjustments))
        )
    all_denied = all(not r.paid and not _patient_share(r) for r in results)
    status = "4" if all_denied else "2" if claim.has_other_payer else "1"
    result = _total(claim, tuple(results), status, (), tuple(dict.fromkeys(denials)))
    return result.model_copy(
        update={"deductible_used": used_deductible, "out_of_pocket_used": used_oop}
    )


def _patient_share(line: LineResult) -> Decimal:
    return sum((c.amount for c in line.adjustments if c.group == "PR"), ZERO)


def _total(
    claim: InClaim,
    lines: tuple[LineResult, ...],
    status: str,
    claim_remarks: tuple[str, ...],
    denials: tuple[str, ...],
) -> ClaimResult:
    return ClaimResult(
        status=status,
        charge=sum((line.charge for line in lines), ZERO),
        paid=sum((line.paid for line in lines), ZERO),
        patient_responsibility=sum((_patient_share(line) for line in lines), ZERO),
        lines=lines,
        claim_remarks=claim_remarks,
        denials=denials,
    )


def reverse_result(result: ClaimResult) -> ClaimResult:
    """The CLP02 22 reversal of ``result``: every amount negated, same lines and codes."""
    lines = tuple(
        line.model_copy(
            update={
                "charge": -line.charge,
                "paid": -line.paid,
                "allowed": None if line.allowed is None else -line.allowed,
                "adjustments": tuple(
                    c.model_copy(update={"amount": -c.amount}) for c in line.adjustments
                ),
            }
        )
        for line in result.lines
    )
    return result.model_copy(
        update={
            "status": "22",
            "charge": -result.charge,
            "paid": -result.paid,
            "patient_responsibility": -result.patient_responsibility,
            "lines": lines,
            "deductible_used": -result.deductible_used,
            "out_of_pocket_used": -result.out_of_pocket_used,
        }
    )


def decide_appeal(denials: Collection[str], *, has_documentation: bool) -> tuple[bool, str]:
    """(overturned, reason): CO-50/197/16 fall with documentation; CO-29 and the rest stand."""
    fixable = {"50", "197", "16"} & set(denials)
    if not denials:
        return False, "nothing was denied; the claim was processed as billed"
    if fixable and has_documentation:
        codes = ", ".join(f"CO-{c}" for c in sorted(fixable))
        return True, f"documentation supports the service; {codes} overturned"
    if fixable:
        return False, "no supporting documentation was enclosed; denial upheld"
    codes = ", ".join(f"CO-{c}" for c in denials)
    return False, f"{codes} upheld: the denial is not subject to clinical review"
