"""Settings: defaults, validation and masking."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from claimdesk.settings import Settings


def test_settings_default_database_is_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'claimdesk.db'}"


def test_settings_s3_store_requires_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CLAIMDESK_S3_BUCKET"):
        Settings(_env_file=None, data_dir=tmp_path, document_store="s3")


def test_settings_masked_hides_secrets_and_db_password(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url="postgresql+psycopg://app:hunter2@db.example:5432/claims",
        session_secret="s3cret-value",
    )
    shown = settings.masked()
    assert "hunter2" not in str(shown)
    assert "s3cret-value" not in str(shown)
    assert shown["database_url"].startswith("postgresql+psycopg://app:***@db.example")
