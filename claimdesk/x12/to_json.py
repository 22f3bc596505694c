"""The JSON shape ``claimdesk x12 parse --json`` prints (documented in docs/x12-json.md).

Amounts are decimal strings, dates ISO strings. Each transaction carries
``set_id`` and ``control_number`` and its content under stable names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from claimdesk.x12._parse_837 import ClaimSubmission837
from claimdesk.x12.models import FunctionalGroup, Interchange


def transaction_to_json(transaction: Any) -> dict[str, Any]:
    """One parsed set as JSON-ready data."""
    if not isinstance(transaction, BaseModel):
        raise TypeError(f"not a parsed transaction: {type(transaction).__name__}")
    if isinstance(transaction, ClaimSubmission837):
        # The claims at the top like every other set's content; the batch's own
        # envelope fields (envelope, control, submitter ...) alongside.
        data = transaction.model_dump(mode="json", exclude={"batch"})
        data.update(transaction.batch.model_dump(mode="json", exclude={"kind"}))
        return data
    result: dict[str, Any] = transaction.model_dump(mode="json")
    return result


def group_to_json(group: FunctionalGroup) -> dict[str, Any]:
    data = group.model_dump(mode="json", exclude={"transactions"})
    data["transactions"] = [transaction_to_json(t) for t in group.transactions]
    return data


def interchange_to_json(interchange: Interchange) -> dict[str, Any]:
    data = interchange.model_dump(mode="json", exclude={"groups"})
    data["groups"] = [group_to_json(g) for g in interchange.groups]
    return data


def to_json(interchanges: list[Interchange]) -> dict[str, Any]:
    """``{"interchanges": [...]}`` for everything read from one file."""
    return {"interchanges": [interchange_to_json(i) for i in interchanges]}
