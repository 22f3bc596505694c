"""A payer's connectivity settings, read from its ``Payer`` row and the environment.

``Payer.connectivity`` (JSON) holds the endpoint, ids, breaker tuning and
*references* to credentials, never the credentials themselves::

    {
      "endpoint": "https://edi.payer.example/core",   # default: settings.payer_sim_url
      "appeal_endpoint": "https://edi.payer.example/appeals",  # absent: no e-appeals
      "sender_id": "CLAIMDESK",          # default: settings.core_sender_id
      "receiver_id": "SIMPAYER",         # default: the payer's EDI id
      "username": "clinic",  or  "username_env": "PAYER_X_USERNAME",
      "password_env": "PAYER_X_PASSWORD",
      "client_cert_env": "PAYER_X_CERT", "client_key_env": "PAYER_X_KEY",  # file paths
      "max_retries": 3, "failure_threshold": 5, "cooldown_s": 30
    }

Rate limit (``rate_limit_per_s``), timeout (``timeout_s``) and
``max_concurrency`` are columns of ``Payer``. Credentials are resolved from the
environment when a call is made (``resolve_credentials``); a missing variable is
a ``ConfigError`` naming the variable, never its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from claimdesk.errors import ConfigError
from claimdesk.gateway.paths import APPEALS_PATH, CORE_PATH

if TYPE_CHECKING:
    from claimdesk.settings import Settings
    from models import Payer

__all__ = ["Credentials", "PayerConfig"]

# CAQH CORE: a real-time response must arrive within 20 seconds.
CORE_REAL_TIME_LIMIT_S = 20.0


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """Resolved credentials for one call; ``repr`` shows which kinds are present only."""

    username: str | None
    password: SecretStr | None
    cert: tuple[str, str] | str | None

    def __repr__(self) -> str:
        kinds = [k for k, v in (("password", self.password), ("cert", self.cert)) if v]
        return f"Credentials({', '.join(kinds) or 'none'})"


class PayerConfig(BaseModel):
    """Everything the client needs to call one payer (credentials as env references)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payer_id: str = Field(min_length=1)
    endpoint: str = Field(min_length=1)
    appeal_endpoint: str | None = None
    sender_id: str = Field(min_length=1)
    receiver_id: str = Field(min_length=1)
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    client_cert_env: str | None = None
    client_key_env: str | None = None
    rate_limit_per_s: float = Field(default=10.0, gt=0)
    timeout_s: float = Field(default=CORE_REAL_TIME_LIMIT_S, gt=0)
    # Batch calls (submit, retrieve, appeal) are not bound by the real-time limit, but end.
    batch_timeout_s: float = Field(default=60.0, gt=0)
    max_concurrency: int = Field(default=4, gt=0)
    max_retries: int = Field(default=3, ge=0)
    failure_threshold: int = Field(default=5, ge=1)
    cooldown_s: float = Field(default=30.0, ge=0)
    # Backoff: full jitter over base * 2**attempt, capped.
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_cap_s: float = Field(default=10.0, ge=0)

    @classmethod
    def from_payer(cls, payer: Payer, settings: Settings) -> PayerConfig:
        """The config of ``payer`` with the settings' defaults filled in."""
        conn: dict[str, Any] = dict(payer.connectivity or {})
        conn.pop("submission_channel", None)  # paper or electronic claims: not a call setting
        endpoint = str(conn.pop("endpoint", None) or settings.payer_sim_url)
        data: dict[str, Any] = {
            "payer_id": payer.payer_id,
            "endpoint": endpoint,
            "sender_id": settings.core_sender_id,
            "receiver_id": payer.payer_id,
            "rate_limit_per_s": payer.rate_limit_per_s,
            "timeout_s": payer.timeout_s,
            "max_concurrency": payer.max_concurrency,
            "max_retries": settings.payer_max_retries,
        }
        data.update(conn)
        if payer.electronic_appeals and not data.get("appeal_endpoint"):
            # The appeal channel beside the CORE endpoint, as the simulator serves it.
            data["appeal_endpoint"] = default_appeals_url(endpoint)
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise ConfigError(
                f"payer {payer.payer_id!r}: connectivity settings are invalid ({exc}); "
                "fix the payer's connectivity JSON."
            ) from None

    @property
    def real_time_timeout_s(self) -> float:
        """The payer's timeout, never above the CORE real-time limit."""
        return min(self.timeout_s, CORE_REAL_TIME_LIMIT_S)

    @property
    def core_url(self) -> str:
        return self.endpoint

    @property
    def appeals_url(self) -> str | None:
        """The appeal endpoint, if the payer has an electronic appeal channel."""
        return self.appeal_endpoint

    def resolve_credentials(self) -> Credentials:
        """Read the referenced credentials from the environment now."""
        username = self.username
        if self.username_env:
            username = self._env(self.username_env, "username")
        password = None
        if self.password_env:
            password = SecretStr(self._env(self.password_env, "password"))
        cert: tuple[str, str] | str | None = None
        if self.client_cert_env:
            cert_path = self._env(self.client_cert_env, "client certificate")
            cert = (
                (cert_path, self._env(self.client_key_env, "client key"))
                if self.client_key_env
                else cert_path
            )
        return Credentials(username=username, password=password, cert=cert)

    def _env(self, name: str, what: str) -> str:
        value = os.environ.get(name)
        if not value:
            raise ConfigError(
                f"payer {self.payer_id!r}: the {what} is read from environment variable "
                f"{name!r}, which is not set; set it for the process that calls the payer."
            )
        return value


def default_appeals_url(core_endpoint: str) -> str:
    """The simulator's appeal URL next to its CORE URL (``…/core`` → ``…/appeals``)."""
    if core_endpoint.endswith(CORE_PATH):
        return core_endpoint[: -len(CORE_PATH)] + APPEALS_PATH
    return core_endpoint.rstrip("/") + APPEALS_PATH
