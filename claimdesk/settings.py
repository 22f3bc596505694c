"""Effective settings, from ``CLAIMDESK_*`` variables and an optional ``.env`` file.

``get_settings()`` is called only at entry points (CLI callback, flow body,
Streamlit resource, Alembic ``env.py``); everything else receives a
``Settings`` object, so nothing reads the environment or connects at import.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "claimdesk"


class Settings(BaseSettings):
    """Everything claimdesk can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="CLAIMDESK_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    # Empty means the SQLite file ``<data_dir>/claimdesk.db`` (WAL mode).
    database_url: SecretStr | None = None

    document_store: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = "claimdesk/"
    s3_sse: Literal["AES256", "aws:kms"] = "AES256"
    s3_kms_key_id: str | None = None
    # boto3 itself reads AWS_ENDPOINT_URL_S3; kept here so `config show` reports it.
    s3_endpoint_url: str | None = Field(
        default_factory=lambda: os.environ.get("AWS_ENDPOINT_URL_S3") or None
    )

    prefect_api_url: str | None = Field(
        default_factory=lambda: os.environ.get("PREFECT_API_URL") or None
    )
    # The Prefect API's basic-auth string (``user:password``). `claimdesk up` makes one per
    # data directory (``<data_dir>/prefect-api.auth``, 0600); commands beside it use it.
    prefect_api_auth_string: SecretStr | None = Field(
        default_factory=lambda: _secret(os.environ.get("PREFECT_API_AUTH_STRING"))
    )

    # Payer gateway defaults; per-payer endpoints and credentials live on the Payer row.
    payer_sim_url: str = "http://127.0.0.1:8600/core"
    core_sender_id: str = "CLAIMDESK"
    payer_timeout_s: float = 20.0  # CAQH CORE real-time response limit
    payer_max_retries: int = 3

    # Where claimdesk reads "today": the system clock, or (demo and tests) the payer
    # simulator's simulated clock, so deadlines and ages follow the simulated days.
    clock_source: Literal["system", "payer_sim"] = "system"

    # HMAC key for the app's session cookie (32+ characters); unset means
    # <data_dir>/session.key, created 0600 on first use (claimdesk.access.sessions).
    session_secret: SecretStr | None = None
    # Sessions (app and SSO alike) end after this idle time and, however active, this
    # long after sign-in; the SSO sign-in cookie is cleared too (claimdesk.access.sessions).
    session_idle_minutes: int = Field(default=15, ge=1)
    session_max_hours: float = Field(default=12, gt=0)
    # SSO: a first sign-in links itself only by an ``email_verified`` address in one of
    # these domains (comma-separated); any other identity waits for an admin to link it.
    sso_allowed_domains: str = ""
    # Password sign-ins: this many failures within the window lock the account name
    # (known or not) or the client address for the lockout time (0: until an admin unlocks).
    login_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=0)
    # Roles whose password sign-ins need a TOTP code (comma-separated); others may enrol.
    mfa_required_roles: str = "admin,manager"
    # AES-GCM key for TOTP secrets (64 hex characters); unset means <data_dir>/secrets.key,
    # created 0600 on first use. It never goes into the database.
    secrets_key: SecretStr | None = None

    # The audit trail's HMAC key (32+ characters); unset means <data_dir>/audit.key,
    # created 0600 on first use. It never goes into the database.
    audit_key: SecretStr | None = None
    # A signed checkpoint of the chain head is written outside the database every this
    # many sealed events (and after each verify): to the S3 bucket when the document
    # store is S3, under Object Lock for this many days when above 0; else <data_dir>/audit/.
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    audit_checkpoint_lock_days: int = Field(default=0, ge=0)

    # Learning from the office's own 835s (claimdesk.learning): the rolling window, the
    # lines a pattern or rate needs, and how far below the learned rate (with no fee
    # schedule loaded) an allowed amount is an underpayment.
    learning_window_days: int = Field(default=90, ge=1)
    learning_min_lines: int = Field(default=5, ge=1)
    learned_rate_margin: float = Field(default=0.10, ge=0, lt=1)

    @model_validator(mode="after")
    def _check_s3(self) -> Self:
        if self.document_store == "s3" and not self.s3_bucket:
            raise ValueError("CLAIMDESK_S3_BUCKET is required when CLAIMDESK_DOCUMENT_STORE=s3.")
        if self.s3_sse == "aws:kms" and self.document_store == "s3" and not self.s3_kms_key_id:
            raise ValueError("CLAIMDESK_S3_KMS_KEY_ID is required when CLAIMDESK_S3_SSE=aws:kms.")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'claimdesk.db'}"

    @property
    def payer_sim_base_url(self) -> str:
        return self.payer_sim_url.removesuffix("/core")

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def sso_domains(self) -> frozenset[str]:
        return _csv(self.sso_allowed_domains)

    @property
    def mfa_roles(self) -> frozenset[str]:
        return _csv(self.mfa_required_roles)

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets and database passwords masked."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else ""
            shown[name] = value if value is None else str(value)
        shown["database_url"] = _mask_url_password(self.effective_database_url)
        return shown


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def _csv(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def _mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True)


@lru_cache
def get_settings() -> Settings:
    """The process's settings; call at entry points only."""
    return Settings()
