"""The browser never gets a traceback: Streamlit's ``client.showErrorDetails`` is "none"
wherever the app is started (``claimdesk up`` and a plain ``streamlit run`` here)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from claimdesk import stack as stack_module
from claimdesk.settings import Settings
from claimdesk.stack import REPO_ROOT, Ports, Stack


def test_the_repositorys_streamlit_config_shows_no_error_details() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_claimdesk_up_starts_the_app_with_no_error_details(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    stack = Stack(Settings(_env_file=None, data_dir=tmp_path), Ports(1, 2, 3))
    monkeypatch.setattr(stack, "_spawn", lambda name, argv: started.append(argv))
    monkeypatch.setattr(stack_module, "_wait_http", lambda *args, **kwargs: None)
    stack.start_ui()
    (argv,) = started
    flag = argv.index("--client.showErrorDetails")
    assert argv[flag + 1] == "none"
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
