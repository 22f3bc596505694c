"""Keep PHI out of Prefect: an unexpected error leaves a task as its type and a reference.

Prefect stores a failed run's message in its own database. claimdesk's own errors
carry ids and codes only, but a library's (a pydantic validation error quoting its
input, a database error quoting its parameters) may carry patient data, so those
are replaced by a sanitised error with a reference, and the log in claimdesk's data
directory (0600) records the types and code lines only, never a message or a value.
A ``ClaimdeskError`` reaches Prefect without its chained causes and its ``detail``.

The log is sealed line by line (AES-GCM, ``claimdesk.crypto_files``, under the files key
from the settings' secrets key): `claimdesk logs task-errors` reads it back.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from claimdesk.crypto_files import files_key, open_line, seal_line
from claimdesk.errors import ClaimdeskError
from claimdesk.private_files import private_dir, private_file
from claimdesk.settings import Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=ClaimdeskError)


# Where the log is under the data directory; also what each sealed line is bound to.
TASK_LOG = "logs/task-errors.log"


class TaskFailed(RuntimeError):
    """A task failed; the details are in claimdesk's log under the given reference."""


class _SealedLineHandler(logging.FileHandler):
    """Appends each record as one sealed line: nothing on disk is readable without the key."""

    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__(path)
        self._key = key

    def format(self, record: logging.LogRecord) -> str:
        return seal_line(self._key, super().format(record), bound_to=TASK_LOG)


def read_task_log(settings: Settings) -> list[str]:
    """The log's records in order (older plain lines as they are); [] when there is none.

    A line that does not open (changed, or another key) raises ``SealedFileError``
    naming its line number.
    """
    path = settings.data_dir / TASK_LOG
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    key = files_key(settings)
    return [
        open_line(key, line, bound_to=TASK_LOG, what=f"{TASK_LOG} line {number}")
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]


def _local_logger() -> logging.Logger:
    logger = logging.getLogger("claimdesk.tasks.errors")
    if not any(getattr(h, "claimdesk_task_log", False) for h in logger.handlers):
        settings = get_settings()
        log_dir = private_dir(settings.data_dir / "logs")
        # Created 0600 before the handler opens it for appending (which keeps the mode).
        handler = _SealedLineHandler(private_file(log_dir / "task-errors.log"), files_key(settings))
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        handler.claimdesk_task_log = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False  # never to Prefect's API log handler
    return logger


def _frames(tb: TracebackType | None) -> str:
    """``file:line`` of each frame: where it failed, never a value or a source line."""
    places = []
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        places.append(f"{'/'.join(path.parts[-2:])}:{tb.tb_lineno}")
        tb = tb.tb_next
    return " > ".join(places) or "?"


def describe_failure(exc: BaseException) -> str:
    """The exception and its causes as types and frames; only claimdesk's messages.

    A library's message may quote its input (a patient's name in a validation error,
    a member id in a database error's parameters), so only ``ClaimdeskError``s, whose
    ``str()`` carries ids and codes, keep theirs; ``detail`` is never written.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        text = f"{kind.__module__}.{kind.__qualname__}"
        if isinstance(current, ClaimdeskError):
            text += f" ({current.message})"
        parts.append(f"{text} at {_frames(current.__traceback__)}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return " <- caused by ".join(parts)


def clean_claimdesk_error(exc: E) -> E:
    """The same error (type, message, fields) without ``detail`` and without its causes.

    Prefect logs a failed task's traceback with every chained cause and keeps the
    exception in the run's state; a cause (an ``httpx`` or database error) may quote
    patient data, and ``detail`` may hold it by design.
    """
    clean = type(exc).__new__(type(exc), *exc.args)
    clean.args = exc.args
    clean.__dict__.update(exc.__dict__)
    clean.detail = None
    return clean


def phi_safe(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        failure: Exception
        try:
            return function(*args, **kwargs)
        except ClaimdeskError as exc:
            # Its str() carries ids, codes and positions only; its causes may not.
            if exc.__cause__ is not None or exc.__context__ is not None:
                _local_logger().error("task %s: %s", function.__name__, describe_failure(exc))
            failure = clean_claimdesk_error(exc).with_traceback(exc.__traceback__)
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _local_logger().error(
                "task %s failed [%s]: %s", function.__name__, reference, describe_failure(exc)
            )
            failure = TaskFailed(
                f"{function.__name__} failed with {type(exc).__name__} [ref {reference}]; "
                "where it failed (types and code lines, no data) is in claimdesk's "
                f"{TASK_LOG} (`claimdesk logs task-errors --ref {reference}`)."
            )
        # Raised outside the handler: no __context__ either, so no cause of any kind is
        # kept with what Prefect logs and stores.
        raise failure from None

    return wrapper  # type: ignore[return-value]
