"""The simulator's configuration: payers, roster, fee schedule, rules, faults, credentials.

Loaded from a JSON or YAML file (``--config``); every field has a default, so an
empty file (or none) gives the demo payer. ``SimConfig.model_json_schema()`` is
the reference; README.md in this package has an example.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from claimdesk.errors import ConfigError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayerConfig(_Model):
    """One payer the simulator answers for (NM1*PR NM109 of the 837/270/276)."""

    payer_id: str
    name: str
    medicare_like: bool = False  # CO-253 sequestration on every payment
    timely_filing_days: int = 365
    tax_id: str = "123456789"  # TRN03 is "1" + this
    insurance_type: str = "PR"  # EB04 in 271s: PR (PPO), MB (Medicare B), HM (HMO)
    # Planted quirks, for claimdesk's learners (claimdesk.learning) to find:
    # code → modifier a line must carry, else CO-4 (the modifier is required).
    required_modifiers: dict[str, str] = Field(default_factory=dict)
    # [component, primary prefix]: this payer's own CO-97 bundles, beside the shared ones.
    bundles: list[tuple[str, str]] = Field(default_factory=list)
    # From a date of service on, a code's fee schedule amount times a factor (a rate cut).
    rate_changes: list[RateChange] = Field(default_factory=list)


class RateChange(_Model):
    code: str
    effective: date
    factor: Decimal = Field(gt=0)


class RosterMember(_Model):
    """One enrolled member: what 271s report and 835s charge the patient."""

    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    gender: Literal["M", "F", "U"] = "U"
    payer_id: str = "SIMPAYER"
    plan: str = "PPO GOLD"
    group_number: str = "GRP1001"
    coverage_start: date = date(2020, 1, 1)
    coverage_end: date | None = None
    status: Literal["active", "inactive", "terminated"] = "active"
    copay: Decimal = Decimal("25.00")
    coinsurance_percent: Decimal = Decimal("20")
    deductible_remaining: Decimal = Decimal("500.00")
    out_of_pocket_remaining: Decimal = Decimal("3000.00")
    other_payer_primary: str | None = None  # the other payer's name when it pays first


class FaultConfig(_Model):
    """Probability per request of each fault (0 = never); drawn from the seeded RNG."""

    timeout: float = Field(0.0, ge=0, le=1)  # sleep timeout_seconds, then answer
    timeout_seconds: float = 65.0  # past the CORE 20 s real-time limit
    hang: float = Field(0.0, ge=0, le=1)  # never answer (until the client gives up)
    server_error: float = Field(0.0, ge=0, le=1)  # HTTP 500/502/503
    malformed_envelope: float = Field(0.0, ge=0, le=1)  # a multipart body that is not CORE
    malformed_x12: float = Field(0.0, ge=0, le=1)  # payload X12 with a broken segment
    truncated_x12: float = Field(0.0, ge=0, le=1)  # payload X12 cut before its IEA
    duplicate_835: float = Field(0.0, ge=0, le=1)  # an 835 picked up stays offered once more
    slow: float = Field(0.0, ge=0, le=1)  # sleep slow_seconds, then answer
    slow_seconds: float = 2.0
    # None: until changed. N: these faults apply to the next N /core requests only, then
    # all switch off (a test's "fail the first try, let the retry through").
    limit: int | None = Field(None, ge=1)


def _default_payers() -> list[PayerConfig]:
    return [
        PayerConfig(payer_id="SIMPAYER", name="SIM HEALTH PLAN", timely_filing_days=180),
        PayerConfig(
            payer_id="SIMMCR",
            name="SIM MEDICARE ADVANTAGE",
            medicare_like=True,
            timely_filing_days=365,
            tax_id="987654321",
            insurance_type="MB",
        ),
    ]


def _default_roster() -> list[RosterMember]:
    return [
        RosterMember(member_id="M1001", first_name="JANE", last_name="DOE",
                     birth_date=date(1980, 4, 12), gender="F"),
        RosterMember(member_id="M1002", first_name="JOHN", last_name="SMITH",
                     birth_date=date(1975, 9, 30), gender="M",
                     deductible_remaining=Decimal("0.00"), copay=Decimal("30.00")),
        RosterMember(member_id="M1003", first_name="MARY", last_name="JONES",
                     birth_date=date(1990, 1, 5), gender="F", status="inactive"),
        RosterMember(member_id="M1004", first_name="ROBERT", last_name="BROWN",
                     birth_date=date(1968, 7, 21), gender="M", status="terminated",
                     coverage_end=date(2024, 12, 31)),
        RosterMember(member_id="M1005", first_name="LINDA", last_name="WILSON",
                     birth_date=date(1985, 3, 3), gender="F",
                     other_payer_primary="BLUE SHIELD TEST"),
        RosterMember(member_id="MCR2001", first_name="HAROLD", last_name="GREEN",
                     birth_date=date(1950, 11, 2), gender="M", payer_id="SIMMCR",
                     plan="MEDICARE ADVANTAGE", group_number="MA001", copay=Decimal("0.00"),
                     deductible_remaining=Decimal("240.00")),
    ]  # fmt: skip


# Allowed amounts per unit (USD) for common CPT/HCPCS codes, roughly national Medicare rates.
DEFAULT_FEE_SCHEDULE: dict[str, Decimal] = {
    code: Decimal(amount)
    for code, amount in {
        "99202": "75.00", "99203": "110.00", "99204": "165.00", "99205": "210.00",
        "99211": "25.00", "99212": "57.00", "99213": "92.00", "99214": "130.00",
        "99215": "180.00", "99395": "120.00", "99396": "130.00", "G0439": "130.00",
        "36415": "3.00", "80053": "11.00", "85025": "8.00", "81002": "3.50",
        "93000": "17.00", "71046": "30.00", "97110": "30.00", "97140": "28.00",
        "90471": "20.00", "90686": "20.00", "20610": "60.00", "11721": "40.00",
        "72148": "240.00", "70551": "260.00", "73721": "230.00", "29881": "520.00",
    }.items()
}  # fmt: skip


PayerConfig.model_rebuild()


class SimConfig(_Model):
    """Everything the simulator can be told; defaults give the demo payer."""

    seed: int = 0
    clock_start: date | None = None  # None: the real date when the state file is created
    clearinghouse_id: str = "SIMCLEARINGHOUSE"  # ISA06 of the acknowledgments
    clearinghouse_name: str = "SIM CLEARINGHOUSE"
    payers: list[PayerConfig] = Field(default_factory=_default_payers)
    roster: list[RosterMember] = Field(default_factory=_default_roster)
    fee_schedule: dict[str, Decimal] = Field(default_factory=lambda: dict(DEFAULT_FEE_SCHEDULE))
    # Allowed amount for a code not in the schedule, as a share of the charge.
    default_allowed_ratio: Decimal = Decimal("0.60")
    # [procedure, diagnosis prefix]: CO-50 when the claim's principal diagnosis starts so.
    not_medically_necessary: list[tuple[str, str]] = Field(
        default_factory=lambda: [("72148", "Z00"), ("70551", "Z00"), ("93000", "Z00")]
    )
    # [component, primary prefix]: CO-97 on the component when a line's code starts so.
    bundles: list[tuple[str, str]] = Field(default_factory=lambda: [("36415", "992")])
    authorization_required: list[str] = Field(
        default_factory=lambda: ["70551", "72148", "73721", "29881"]
    )
    adjudication_delay_days: int = Field(2, ge=0)  # simulated days from acceptance to 835
    appeal_delay_days: int = Field(5, ge=0)
    interest_probability: float = Field(0.05, ge=0, le=1)  # PLB L6 on an 835
    withhold_probability: float = Field(0.05, ge=0, le=1)  # PLB WO on an 835
    faults: FaultConfig = Field(default_factory=FaultConfig)
    # When set, required of every caller (loopback too): on /core as the CORE envelope's
    # UserName/Password form fields (the rule's HTTP MIME way), on /appeals as HTTP basic.
    username: str | None = None
    password: str | None = None
    client_cert_subject: str | None = None  # required X-SSL-Client-S-DN from a TLS proxy
    allow_remote_admin: bool = False

    def payer(self, payer_id: str) -> PayerConfig | None:
        return next((p for p in self.payers if p.payer_id == payer_id), None)


def load_config(path: Path | None) -> SimConfig:
    """The config in ``path`` (.json, .yaml or .yml), or the defaults when None."""
    if path is None:
        return SimConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"payer-sim config {str(path)!r} cannot be read ({exc.strerror}); check the path."
        ) from exc
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text or "{}")
        return SimConfig.model_validate(data)
    except ValueError as exc:  # JSONDecodeError, ValidationError
        raise ConfigError(
            f"payer-sim config {str(path)!r} is not valid: {exc}; fix the file."
        ) from exc
    except Exception as exc:  # yaml.YAMLError has no common base with ValueError
        raise ConfigError(f"payer-sim config {str(path)!r} is not valid YAML: {exc}") from exc
