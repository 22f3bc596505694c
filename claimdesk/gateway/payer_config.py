"""A payer's connectivity settings, read from its ``Payer`` row and the environment.

``Payer.connectivity`` (JSON) holds the endpoint, ids, breaker tuning and
*references* to credentials, never the credentials themselves::

    {
      "endpoint": "https://edi.payer.example/core",   # default: settings.payer_sim_url
      "appeal_endpoint": "https://edi.payer.example/appeals",  # absent: no e-appeals
      "sender_id": "CLAIMDESK",          # default: settings.core_sender_id
      "receiver_id": "SIMPAYER",         # default: the payer's EDI id
      "username": "clinic",  or  "username_env": "PAYER_X_USERNAME",
      "password_env": "PAYER_X_PASSWORD",  or  "password_file": "/run/secrets/payer_x",
      "client_cert_env": "PAYER_X_CERT", "client_key_env": "PAYER_X_KEY",  # file paths
        or  "client_cert_file": "/run/secrets/x.pem", "client_key_file": "/run/secrets/x.key",
      "max_retries": 3, "failure_threshold": 5, "cooldown_s": 30,
      "submission_channel": "paper", "production": true, "scrub_rules": {...}  # not call settings
    }

Rate limit (``rate_limit_per_s``), timeout (``timeout_s``) and
``max_concurrency`` are columns of ``Payer``. Credentials are resolved from the
environment or from secret files (``*_file``: the file's content, as container
secrets are mounted) when a call is made (``resolve_credentials``); a missing
variable or unreadable file is a ``ConfigError`` naming it, never its value.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from claimdesk.errors import ConfigError
from claimdesk.gateway.paths import APPEALS_PATH, CORE_PATH

if TYPE_CHECKING:
    from claimdesk.settings import Settings
    from models import Payer

__all__ = ["Credentials", "PayerConfig", "require_https"]

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


def require_https(payer_id: str, url: str, what: str) -> None:
    """Claims and remittances carry PHI: https, except to this machine (the simulator)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    shown = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise ConfigError(
        f"payer {payer_id!r}: the {what} {shown!r} is not https; payer endpoints must use "
        "https (plain http is allowed only to this machine: localhost, 127.0.0.0/8 or ::1)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    username_file: str | None = None
    password_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
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

    @model_validator(mode="after")
    def _secure_endpoints(self) -> PayerConfig:
        # A ConfigError (not a ValueError) passes through pydantic unwrapped.
        require_https(self.payer_id, self.endpoint, "endpoint")
        if self.appeal_endpoint:
            require_https(self.payer_id, self.appeal_endpoint, "appeal endpoint")
        return self

    @classmethod
    def from_payer(cls, payer: Payer, settings: Settings) -> PayerConfig:
        """The config of ``payer`` with the settings' defaults filled in."""
        conn: dict[str, Any] = dict(payer.connectivity or {})
        # Read by the claim writers and the scrubber, not by the client.
        for key in ("submission_channel", "production", "scrub_rules"):
            conn.pop(key, None)
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
        """Read the referenced credentials from the environment or secret files now."""
        username = self.username
        if self.username_env:
            username = self._env(self.username_env, "username")
        elif self.username_file:
            username = self._secret_file(self.username_file, "username")
        password = None
        if self.password_env:
            password = SecretStr(self._env(self.password_env, "password"))
        elif self.password_file:
            password = SecretStr(self._secret_file(self.password_file, "password"))
        cert: tuple[str, str] | str | None = None
        cert_path = self._cert_path("client_cert", "client certificate")
        if cert_path:
            key_path = self._cert_path("client_key", "client key")
            cert = (cert_path, key_path) if key_path else cert_path
        return Credentials(username=username, password=password, cert=cert)

    def _cert_path(self, kind: str, what: str) -> str | None:
        env, file = getattr(self, f"{kind}_env"), getattr(self, f"{kind}_file")
        if env:
            return self._env(env, what)
        if not file:
            return None
        path = Path(file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"payer {self.payer_id!r}: the {what} file {str(path)!r} does not exist; "
                "mount it there or fix the payer's connectivity."
            )
        return str(path)

    def _secret_file(self, name: str, what: str) -> str:
        path = Path(name).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(
                f"payer {self.payer_id!r}: the {what} is read from file {str(path)!r}, which "
                f"cannot be read ({why}); mount the secret there for the process that calls "
                "the payer."
            ) from None
        if not value:
            raise ConfigError(f"payer {self.payer_id!r}: the {what} file {str(path)!r} is empty.")
        return value

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
