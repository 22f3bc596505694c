"""Keep PHI out of Prefect: an unexpected error leaves a task as its type and a reference.

Prefect stores a failed run's message in its own database. claimdesk's own errors
carry ids and codes only, but a library's (a pydantic validation error quoting its
input, a database error quoting its parameters) may carry patient data, so those
are logged in claimdesk's data directory and replaced by a sanitised error.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from claimdesk.errors import ClaimdeskError
from claimdesk.settings import get_settings

F = TypeVar("F", bound=Callable[..., Any])


class TaskFailed(RuntimeError):
    """A task failed; the details are in claimdesk's log under the given reference."""


def _local_logger() -> logging.Logger:
    logger = logging.getLogger("claimdesk.tasks.errors")
    if not logger.handlers:
        log_dir = get_settings().data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "task-errors.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False  # never to Prefect's API log handler
    return logger


def phi_safe(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ClaimdeskError:
            raise  # their str() carries ids, codes and positions only
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _local_logger().exception("task %s failed [%s]", function.__name__, reference)
            raise TaskFailed(
                f"{function.__name__} failed with {type(exc).__name__} [ref {reference}]; "
                "details (which may name a patient) are in claimdesk's logs/task-errors.log."
            ) from None

    return wrapper  # type: ignore[return-value]
