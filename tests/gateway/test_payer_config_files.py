"""Payer credentials read from secret files (``*_file``) as well as environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimdesk.errors import ConfigError
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.settings import Settings
from models import Payer


def config(**connectivity: object) -> PayerConfig:
    payer = Payer(name="Acme", payer_id="SIMACM", connectivity=connectivity)
    return PayerConfig.from_payer(payer, Settings(_env_file=None))


def test_username_and_password_come_from_their_files(tmp_path: Path) -> None:
    (tmp_path / "user").write_text("prairiecreek\n")
    (tmp_path / "pass").write_text("  s3cret \n")
    credentials = config(
        username_file=str(tmp_path / "user"), password_file=str(tmp_path / "pass")
    ).resolve_credentials()
    assert credentials.username == "prairiecreek"
    assert credentials.password is not None
    assert credentials.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(credentials)


def test_client_certificate_and_key_files_are_paths(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("cert"), key.write_text("key")
    both = config(client_cert_file=str(cert), client_key_file=str(key)).resolve_credentials()
    assert both.cert == (str(cert), str(key))
    assert config(client_cert_file=str(cert)).resolve_credentials().cert == str(cert)


def test_a_missing_or_empty_secret_file_names_the_file_not_a_value(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(ConfigError, match=r"file '.*absent', which cannot be read \(No such"):
        config(password_file=str(missing)).resolve_credentials()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match=r"password file .* is empty"):
        config(password_file=str(empty)).resolve_credentials()
    with pytest.raises(ConfigError, match=r"client certificate file .* does not exist"):
        config(client_cert_file=str(missing)).resolve_credentials()


def test_settings_that_are_not_for_the_client_do_not_break_its_config() -> None:
    # The claim writers read production and submission_channel; the scrubber, scrub_rules.
    made = config(production=True, submission_channel="paper", scrub_rules={}, max_retries=1)
    assert made.max_retries == 1
