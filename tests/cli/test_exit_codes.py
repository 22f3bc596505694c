"""The exit codes `claimdesk --help` documents: 0 done, 1 refused, 2 bad input, 130 interrupted.

Real commands as real processes against the demo database (tests/cli/conftest.py), and
the one handler they share (``claimdesk.cli._lazy.LazyGroup``) for each kind of error.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import ClassVar

import pytest
import typer
from typer.testing import CliRunner

from claimdesk.cli._lazy import Lazy, LazyGroup
from claimdesk.errors import (
    ClaimdeskError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ReviewConflict,
    ValidationFailed,
)
from claimdesk.x12 import X12SyntaxError
from tests.cli.demo import CLAIMDESK, DemoCli

pytestmark = pytest.mark.slow


def _no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr


def _eligibility_tasks(demo: DemoCli) -> list[int]:
    done = demo.run("review", "list", "--kind", "eligibility", "--ids")
    assert done.returncode == 0, done.stderr
    return [int(line) for line in done.stdout.split()]


# --- 0 done -------------------------------------------------------------------------


def test_done_is_0(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("sam")
    for args in (("codes", "carc", "45"), ("claims", "list", "--json"), ("review", "list")):
        done = demo_cli.run(*args)
        assert done.returncode == 0, (args, done.stderr)


# --- 1 refused ----------------------------------------------------------------------


def test_not_signed_in_is_1(demo_cli: DemoCli) -> None:
    assert demo_cli.run("login", "--logout").returncode == 0
    try:
        refused = demo_cli.run("claims", "show", "1")
        assert refused.returncode == 1 and "sign in with `claimdesk login`" in refused.stderr
        _no_traceback(refused)
    finally:
        demo_cli.sign_in("sam")


def test_not_found_is_1(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("sam")
    missing = demo_cli.run("claims", "show", "999999")
    assert missing.returncode == 1 and "no claim 999999" in missing.stderr
    not_in_list = demo_cli.run("codes", "carc", "ZZ9")
    assert not_in_list.returncode == 1 and "not in the carc list" in not_in_list.stderr
    no_task = demo_cli.run("review", "resolve", "999999", "--decision", '{"action": "hold"}')
    assert no_task.returncode == 1 and "999999" in no_task.stderr
    _no_traceback(no_task)


def test_permission_denied_is_1(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("sam")
    task = _eligibility_tasks(demo_cli)[-1]
    demo_cli.sign_in("ada")
    added = demo_cli.run(
        "users", "add", "max", "--role", "manager", "--password-stdin", stdin="max-demo-pw-42\n"
    )
    assert added.returncode == 0, added.stderr
    demo_cli.sign_in("max")
    try:
        refused = demo_cli.run(
            "review",
            "resolve",
            str(task),
            "--decision",
            '{"action": "hold", "reason": "a manager does not work tasks"}',
        )
    finally:
        demo_cli.sign_in("sam")
    assert refused.returncode == 1, refused.stderr
    assert "error:" in refused.stderr
    _no_traceback(refused)


def test_a_task_someone_else_resolved_is_1(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("sam")
    task = _eligibility_tasks(demo_cli)[-1]
    decision = '{"action": "hold", "reason": "waiting for the new card"}'
    first = demo_cli.run("review", "resolve", str(task), "--decision", decision)
    assert first.returncode == 0, first.stderr
    again = demo_cli.run("review", "resolve", str(task), "--decision", decision)
    assert again.returncode == 1 and f"task {task} was already" in again.stderr  # ReviewConflict
    _no_traceback(again)


# --- 2 bad input --------------------------------------------------------------------


def test_a_bad_option_is_2(demo_cli: DemoCli) -> None:
    done = demo_cli.run("claims", "list", "--limit", "0")
    assert done.returncode == 2 and "--limit" in done.stderr
    unknown = demo_cli.run("claims", "list", "--colour")
    assert unknown.returncode == 2 and "No such option" in unknown.stderr


def test_a_value_that_is_not_one_is_2(demo_cli: DemoCli) -> None:
    date = demo_cli.run("kpis", "--from", "yesterday")
    assert date.returncode == 2 and "--from 'yesterday' is not a date" in date.stderr
    demo_cli.sign_in("sam")
    not_json = demo_cli.run("review", "resolve", "1", "--decision", "{hold")
    assert not_json.returncode == 2 and "--decision is not JSON" in not_json.stderr


def test_a_decision_its_kind_refuses_is_2(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("sam")
    task = _eligibility_tasks(demo_cli)[0]
    # `override` is a scrub task's action; an eligibility task takes corrected_coverage,
    # self_pay or hold (ValidationFailed, naming the field).
    done = demo_cli.run(
        "review",
        "resolve",
        str(task),
        "--decision",
        '{"action": "override", "reason": "payer confirmed"}',
    )
    assert done.returncode == 2, done.stderr
    assert "decision.action" in done.stderr
    _no_traceback(done)


def test_a_file_that_cannot_be_used_is_2(demo_cli: DemoCli, tmp_path: Path) -> None:
    not_x12 = tmp_path / "notes.x12"
    not_x12.write_text("this is not an interchange\n")
    parsed = demo_cli.run("x12", "parse", str(not_x12))
    assert parsed.returncode == 2 and "error:" in parsed.stderr  # X12Error
    bad_csv = tmp_path / "claims.csv"
    bad_csv.write_text("patient_control_number\nC-1\n")
    imported = demo_cli.run("claims", "import", str(bad_csv), "--format", "csv")
    assert imported.returncode == 2 and "nothing was imported" in imported.stderr
    _no_traceback(imported)


def test_json_output_keeps_the_exit_code(demo_cli: DemoCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.270"
    bad.write_text("ISA*00*nope~")
    checked = demo_cli.run("x12", "validate", str(bad), "--json")
    assert checked.returncode == 1  # a check that found issues
    report = json.loads(checked.stdout)
    assert report["valid"] is False and report["issues"]


# --- 130 interrupted ----------------------------------------------------------------


def _waiting_on_stdin(pid: int) -> bool:
    # /proc/PID/syscall: "0 0x0 ..." is read(2) on fd 0 (x86_64); other arches: wchan.
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return fields[:2] == ["0", "0x0"]


def test_ctrl_c_is_130(demo_cli: DemoCli) -> None:
    demo_cli.sign_in("ada")  # `users add` asks for the password once an admin is signed in
    process = subprocess.Popen(
        [str(CLAIMDESK), "users", "add", "zed", "--role", "lead", "--password-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=demo_cli.env,
    )
    try:
        deadline = time.monotonic() + 60
        while not _waiting_on_stdin(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_stdin(process.pid), "never read the password"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err


# --- the one handler ----------------------------------------------------------------


def _raising(error: BaseException) -> typer.Typer:
    class Group(LazyGroup):
        lazy: ClassVar[dict[str, Lazy]] = {}

    app = typer.Typer(cls=Group, add_completion=False)

    @app.command("go")
    def go() -> None:
        raise error

    @app.command("other")
    def other() -> None:
        pass

    return app


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ValidationFailed("claims[0].charge: not an amount", field="charge"), 2),
        (X12SyntaxError("segment 4 BPR: too short", segment_index=4), 2),
        (InvalidTransition("paid", "draft", frozenset()), 1),
        (NotFound("no claim 7"), 1),
        (PermissionDenied("a manager may not resolve"), 1),
        (ReviewConflict("task 3 was already resolved"), 1),
        (ClaimdeskError("the database could not be used"), 1),
        (KeyboardInterrupt(), 130),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_an_error_no_command_caught_exits_with_its_code(error: BaseException, code: int) -> None:
    result = CliRunner().invoke(_raising(error), ["go"])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if isinstance(error, ClaimdeskError):
        assert f"error: {error}" in result.stderr
    else:
        assert "interrupted" in result.stderr
