"""claimdesk's error tree.

Every error claimdesk raises on purpose descends from ``ClaimdeskError``; the
CLI (``exit_with_error``) and the app (``st.error``) are the only places that
turn one into output for a person.

    ClaimdeskError
    ├── ConfigError                 settings that cannot work
    ├── ValidationFailed            a value a person or file gave is refused (names the field)
    │   └── InvalidTransition       a status change the row's state machine forbids
    ├── NotFound                    a row that should exist does not
    ├── DocumentError               document store: missing object, checksum mismatch
    ├── X12Error                    (claimdesk.x12) unreadable or invalid X12
    ├── PayerError                  (claimdesk.gateway) a payer call failed
    └── ReviewError                 (claimdesk.review, claimdesk.workqueue) human-review failures
        ├── ReviewConflict          the task was claimed or resolved by someone else
        └── PermissionDenied        the user's role may not do this

``str()`` of an error carries ids, codes and positions only (it can end up in
Prefect's logs and states); a value that may be PHI goes in ``detail``, which
only the CLI and the app show to the person in front of them.
"""

from __future__ import annotations


class ClaimdeskError(Exception):
    """Base of every error claimdesk raises on purpose."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # May hold PHI: never logged, shown only to the person at the terminal or page.
        self.detail = detail


class ConfigError(ClaimdeskError):
    """A setting is missing or cannot work."""


class ValidationFailed(ClaimdeskError):
    """A value was refused; ``field`` names where."""

    def __init__(self, message: str, *, field: str, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.field = field


class InvalidTransition(ValidationFailed):
    """A status change that the row's state machine (``claimdesk.states``) does not allow."""

    def __init__(
        self, current: str, target: str, allowed: frozenset[str], *, entity: str = "claim"
    ) -> None:
        allowed_text = ", ".join(sorted(allowed)) or "none (final status)"
        super().__init__(
            f"status: a {entity} in {current!r} cannot move to {target!r}; "
            f"allowed from {current!r}: {allowed_text}.",
            field="status",
        )
        self.entity = entity
        self.current = current
        self.target = target


class NotFound(ClaimdeskError):
    """A row that should exist does not."""


class DocumentError(ClaimdeskError):
    """The document store could not store or return a document intact."""


class ReviewError(ClaimdeskError):
    """Base of human-review failures."""


class ReviewConflict(ReviewError):
    """Someone else claimed or resolved the task first."""


class PermissionDenied(ReviewError):
    """The user's role may not perform this action."""
