"""Keep PHI out of Prefect: an unexpected error leaves a task as its type and a reference.

Prefect stores a failed run's message in its own database. claimdesk's own errors
carry ids and codes only, but a library's (a pydantic validation error quoting its
input, a database error quoting its parameters) may carry patient data, so those
are replaced by a sanitised error with a reference, and the log in claimdesk's data
directory (0600) records the types and code lines only, never a message or a value.
A ``ClaimdeskError`` reaches Prefect without its chained causes and its ``detail``.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from claimdesk.errors import ClaimdeskError
from claimdesk.private_files import private_dir, private_file
from claimdesk.settings import get_settings

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=ClaimdeskError)


class TaskFailed(RuntimeError):
    """A task failed; the details are in claimdesk's log under the given reference."""


def _local_logger() -> logging.Logger:
    logger = logging.getLogger("claimdesk.tasks.errors")
    if not any(getattr(h, "claimdesk_task_log", False) for h in logger.handlers):
        log_dir = private_dir(get_settings().data_dir / "logs")
        # Created 0600 before the handler opens it for appending (which keeps the mode).
        handler = logging.FileHandler(private_file(log_dir / "task-errors.log"))
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
        try:
            return function(*args, **kwargs)
        except ClaimdeskError as exc:
            # Its str() carries ids, codes and positions only; its causes may not.
            if exc.__cause__ is not None or exc.__context__ is not None:
                _local_logger().error("task %s: %s", function.__name__, describe_failure(exc))
            raise clean_claimdesk_error(exc).with_traceback(exc.__traceback__) from None
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _local_logger().error(
                "task %s failed [%s]: %s", function.__name__, reference, describe_failure(exc)
            )
            raise TaskFailed(
                f"{function.__name__} failed with {type(exc).__name__} [ref {reference}]; "
                "where it failed (types and code lines, no data) is in claimdesk's "
                "logs/task-errors.log."
            ) from None

    return wrapper  # type: ignore[return-value]
