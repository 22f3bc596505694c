"""The office file's sections, one pydantic model each, and the problems a file can have.

Reading the YAML with its line numbers is ``office_read``; storing it, ``office``.
Credential fields hold *references* to secrets (names of environment variables,
paths of secret files); their validators never repeat the value they refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from claimdesk.errors import ConfigError
from claimdesk.gateway.payer_config import require_https
from claimdesk.x12.npi import is_valid_npi
from models._fields import parse_money
from models.users import ROLES


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the file, where it is."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


# --- Field types --------------------------------------------------------------------------


def _npi(value: str) -> str:
    if not is_valid_npi(value):
        raise ValueError("not a valid NPI (10 digits ending in the Luhn check digit over 80840)")
    return value


def _digits(value: Any) -> Any:
    return value.replace("-", "").replace(" ", "") if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _env_name(value: str) -> str:
    # The message never repeats the value: if it is a secret, it stays off the screen.
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            "not the name of an environment variable (letters, digits, _); if this is the "
            "secret itself, take it out of the file and give the variable's name instead"
        )
    if len(value) >= 16 and "_" not in value and re.search(r"\d", value):
        raise ValueError(
            "looks like a key or token, not an environment variable's name; give the "
            "variable's name (e.g. ACME_PASSWORD) and set the secret in the environment"
        )
    return value


def _secret_path(value: str) -> str:
    if any(ch.isspace() for ch in value) or not value.startswith(("/", "~/")):
        raise ValueError(
            "not an absolute path of a secret file (e.g. /run/secrets/acme_password); if "
            "this is the secret itself, take it out of the file and give the file's path"
        )
    return value


def _https(value: str) -> str:
    # The gateway's own rule, checked here so the file is refused by line, not a call later.
    try:
        require_https("", value, "endpoint")
    except ConfigError:
        raise ValueError(
            "must use https (plain http only to this machine: localhost, 127.0.0.0/8 or ::1)"
        ) from None
    return value


def _role(value: str) -> str:
    if value not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return value


Npi = Annotated[str, AfterValidator(_npi)]
FilingIndicator = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[0-9A-Z]{2}$")]
Tin = Annotated[str, BeforeValidator(_digits), Field(pattern=r"^\d{9}$")]
Taxonomy = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[0-9A-Z]{9}X$")]
EdiId = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,79}$")]
ProcedureCode = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z0-9]{5}$")]
Modifier = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z0-9]{2}$")]
EnvName = Annotated[str, AfterValidator(_env_name)]
SecretPath = Annotated[str, AfterValidator(_secret_path)]
Url = Annotated[
    str, Field(pattern=r"^https?://[^\s/]+\S*$", max_length=300), AfterValidator(_https)
]
IsaId = Annotated[str, Field(min_length=1, max_length=15, pattern=r"^[A-Za-z0-9 ._-]+$")]
Money = Annotated[Decimal, BeforeValidator(parse_money), Field(ge=0)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- Sections -----------------------------------------------------------------------------


class AddressIn(_In):
    line1: str = Field(min_length=1, max_length=55)
    line2: str | None = Field(default=None, max_length=55)
    city: str = Field(min_length=2, max_length=30)
    state: Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$")]
    # N403: five or nine digits for a US address.
    postal_code: Annotated[str, BeforeValidator(_digits), Field(pattern=r"^\d{5}(\d{4})?$")]


class PracticeIn(_In):
    name: str = Field(min_length=1, max_length=60)
    npi: Npi
    tin: Tin
    taxonomy: Taxonomy | None = None
    address: AddressIn
    # Where payments go when not to the address above (837P loop 2010AB).
    pay_to: AddressIn | None = None


class ProviderIn(_In):
    # The practice's NPI; may be left out when the file has exactly one practice.
    practice: Npi | None = None
    npi: Npi
    role: Literal["billing", "rendering", "referring", "facility"] = "rendering"
    organization_name: str | None = Field(default=None, min_length=1, max_length=60)
    first_name: str | None = Field(default=None, min_length=1, max_length=35)
    last_name: str | None = Field(default=None, min_length=1, max_length=60)
    taxonomy: Taxonomy | None = None
    tin: Tin | None = None

    @model_validator(mode="after")
    def _one_kind_of_name(self) -> ProviderIn:
        if self.organization_name and (self.first_name or self.last_name):
            raise ValueError("give organization_name, or first_name and last_name, not both")
        if not self.organization_name and not self.last_name:
            raise ValueError("a provider needs organization_name or last_name")
        return self


class AppealLevelIn(_In):
    level: int = Field(ge=1, le=5)
    name: str = Field(default="appeal", min_length=1, max_length=40)
    window_days: int = Field(gt=0, le=3650)
    clock_starts: str = Field(default="notice", pattern=r"^(notice|decision)(\+\d{1,3})?$")


CREDENTIAL_FIELDS = (
    "username_env",
    "username_file",
    "password_env",
    "password_file",
    "client_cert_env",
    "client_cert_file",
    "client_key_env",
    "client_key_file",
)


class ConnectivityIn(_In):
    """Maps one to one onto ``Payer.connectivity`` (see ``claimdesk.gateway.payer_config``)."""

    endpoint: Url | None = None  # absent: the payer simulator (settings.payer_sim_url)
    appeal_endpoint: Url | None = None
    sender_id: IsaId | None = None
    receiver_id: IsaId | None = None
    production: bool = False  # ISA15 P instead of T
    username: str | None = Field(default=None, min_length=1, max_length=80)
    username_env: EnvName | None = None
    username_file: SecretPath | None = None
    password_env: EnvName | None = None
    password_file: SecretPath | None = None
    client_cert_env: EnvName | None = None
    client_cert_file: SecretPath | None = None
    client_key_env: EnvName | None = None
    client_key_file: SecretPath | None = None
    max_retries: int | None = Field(default=None, ge=0, le=10)
    failure_threshold: int | None = Field(default=None, ge=1, le=100)
    cooldown_s: float | None = Field(default=None, ge=0, le=3600)
    batch_timeout_s: float | None = Field(default=None, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_source_each(self) -> ConnectivityIn:
        for what in ("username", "password", "client_cert", "client_key"):
            given = [
                name
                for name in (what, f"{what}_env", f"{what}_file")
                if getattr(self, name, None) is not None
            ]
            if len(given) > 1:
                raise ValueError(f"{what}: give one of {' or '.join(given)}, not both")
        if self.client_key_env is not None and self.client_cert_env is None:
            raise ValueError("client_key_env needs client_cert_env")
        if self.client_key_file is not None and self.client_cert_file is None:
            raise ValueError("client_key_file needs client_cert_file")
        return self


class PayerIn(_In):
    payer_id: EdiId
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["medicare", "medicaid", "commercial"] = "commercial"
    claim_channel: Literal["electronic", "paper"] = "electronic"
    # SBR09; default from kind (MB, MC, CI).
    claim_filing_indicator: FilingIndicator | None = None
    timely_filing_days: int = Field(default=365, gt=0, le=3650)
    appeal_levels: list[AppealLevelIn] = Field(default_factory=list)
    electronic_appeals: bool = False
    accepts_replacement_claims: bool = True
    status_poll_interval_hours: int = Field(default=24, gt=0, le=24 * 60)
    prior_auth_codes: list[ProcedureCode] = Field(default_factory=list)
    rate_limit_per_s: float = Field(default=10.0, gt=0, le=1000)
    timeout_s: float = Field(default=20.0, gt=0, le=600)
    max_concurrency: int = Field(default=4, gt=0, le=64)
    connectivity: ConnectivityIn = Field(default_factory=ConnectivityIn)
    # Where paper claims and appeals are mailed.
    address: AddressIn | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PayerIn:
        numbers = [level.level for level in self.appeal_levels]
        if len(set(numbers)) != len(numbers):
            raise ValueError("appeal_levels: each level number once")
        if self.claim_channel == "paper" and self.address is None:
            raise ValueError("a payer billed on paper needs the address its claims go to")
        return self


class FeeRowIn(_In):
    payer: EdiId
    code: ProcedureCode
    modifier: Modifier | None = None
    effective_from: date
    effective_to: date | None = None
    allowed: Money

    @model_validator(mode="after")
    def _dates_in_order(self) -> FeeRowIn:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    @property
    def key(self) -> tuple[str, str, str | None, date]:
        return (self.payer, self.code, self.modifier, self.effective_from)


class FeeCsvIn(_In):
    csv: str = Field(min_length=1, description="path of a CSV file, relative to the YAML file")


class UserIn(_In):
    username: str = Field(min_length=2, max_length=50, pattern=r"^[a-z0-9._-]+$")
    name: str = Field(default="", max_length=100)
    role: Annotated[str, AfterValidator(_role)]


SECTIONS: dict[str, type[_In]] = {
    "practices": PracticeIn,
    "providers": ProviderIn,
    "payers": PayerIn,
    "fee_schedules": FeeRowIn,
    "users": UserIn,
}
