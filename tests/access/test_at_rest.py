"""At rest and in transit: file modes under the data directory, the task-error log,
chained causes kept from Prefect, and https to payers."""

from __future__ import annotations

import logging
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimdesk.db import make_engine
from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import ConfigError, ValidationFailed
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from tasks import _safety

PATIENT = "Testpatient, Jane 1961-04-02 member W123456789"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_documents_are_owner_only_files_in_owner_only_folders(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    stored = LocalDocumentStore(root).put(PATIENT.encode(), content_type="text/plain")
    path = root / stored.key
    assert mode(path) == 0o400
    folders = [root, *[p for p in path.parents if root in p.parents]]
    assert folders and {mode(p) for p in folders} == {0o700}, [oct(mode(p)) for p in folders]


def test_the_sqlite_database_and_data_folder_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = make_engine(Settings(_env_file=None, data_dir=data_dir))
    upgrade_database(engine)
    engine.dispose()
    assert mode(data_dir) == 0o700
    database = data_dir / "claimdesk.db"
    assert mode(database) == 0o600
    for extra in data_dir.glob("claimdesk.db-*"):  # WAL and shared memory, when present
        assert mode(extra) & 0o077 == 0, extra


def test_an_existing_loose_database_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    database = data_dir / "claimdesk.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    make_engine(Settings(_env_file=None, data_dir=data_dir)).dispose()
    assert (mode(data_dir), mode(database)) == (0o700, 0o600)


@pytest.fixture
def task_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    _drop_task_log_handlers()
    yield tmp_path / "logs" / "task-errors.log"
    _drop_task_log_handlers()
    get_settings.cache_clear()


def _drop_task_log_handlers() -> None:
    """The log's file handler is made once per process; each test gets its own file."""
    logger = logging.getLogger("claimdesk.tasks.errors")
    for handler in list(logger.handlers):
        if getattr(handler, "claimdesk_task_log", False):
            logger.removeHandler(handler)
            handler.close()


def test_the_task_error_log_holds_types_and_lines_never_the_message(task_log: Path) -> None:
    @_safety.phi_safe
    def parse_member() -> None:
        raise ValueError(f"invalid literal for member: {PATIENT!r}")

    with pytest.raises(_safety.TaskFailed) as caught:
        parse_member()
    assert "Testpatient" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    text = "\n".join(_safety.read_task_log(get_settings()))
    assert "builtins.ValueError" in text and "test_at_rest.py:" in text
    assert "Testpatient" not in text and "W123456789" not in text
    assert mode(task_log) == 0o600 and mode(task_log.parent) == 0o700


def test_a_claimdesk_error_reaches_prefect_without_its_cause_or_detail(task_log: Path) -> None:
    @_safety.phi_safe
    def call_payer() -> None:
        try:
            raise RuntimeError(f"HTTP 400: {PATIENT}")
        except RuntimeError as exc:
            raise PayerError(
                "payer SIM01: 400 from /core (ref 42)",
                payer_id="SIM01",
                call="eligibility",
                status_code=400,
                detail=PATIENT,
            ) from exc

    with pytest.raises(PayerError) as caught:
        call_payer()
    error = caught.value
    assert str(error) == "payer SIM01: 400 from /core (ref 42)"
    assert error.__cause__ is None and error.__suppress_context__ and error.detail is None
    assert (error.payer_id, error.status_code) == ("SIM01", 400)
    printed = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert "Testpatient" not in printed  # what Prefect logs of a failed task
    text = "\n".join(_safety.read_task_log(get_settings()))
    assert "PayerError (payer SIM01: 400 from /core (ref 42))" in text
    assert "caused by builtins.RuntimeError" in text and "Testpatient" not in text


def test_a_clean_error_keeps_its_fields(task_log: Path) -> None:
    @_safety.phi_safe
    def check() -> None:
        raise ValidationFailed("claim.lines[0].charge: negative", field="charge", detail=PATIENT)

    with pytest.raises(ValidationFailed) as caught:
        check()
    assert caught.value.field == "charge" and caught.value.detail is None


def _config(endpoint: str, **more: str) -> PayerConfig:
    return PayerConfig(
        payer_id="ACME1",
        endpoint=endpoint,
        sender_id="CLAIMDESK",
        receiver_id="ACME1",
        **more,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "endpoint",
    ["http://payer.example/core", "http://10.0.0.5:8600/core", "ftp://payer.example/x", "https://"],
)
def test_a_plain_http_payer_endpoint_is_refused(endpoint: str) -> None:
    with pytest.raises(ConfigError, match=r"payer 'ACME1'.*not https"):
        _config(endpoint)


def test_an_http_appeal_endpoint_is_refused_too() -> None:
    with pytest.raises(ConfigError, match="appeal endpoint"):
        _config("https://payer.example/core", appeal_endpoint="http://payer.example/appeals")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://payer.example/core",
        "http://127.0.0.1:8600/core",
        "http://127.10.0.1:8600/core",
        "http://localhost:8600/core",
        "http://[::1]:8600/core",
    ],
)
def test_https_and_the_loopback_simulator_are_allowed(endpoint: str) -> None:
    assert _config(endpoint).endpoint == endpoint


def test_the_refusal_hides_credentials_in_the_url() -> None:
    with pytest.raises(ConfigError) as caught:
        _config("http://clinic:s3cret@payer.example/core")
    assert "s3cret" not in str(caught.value)
