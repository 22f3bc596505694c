"""The CARC/RARC routing table: which queue, which default action, in plain English.

The table ships as editable configuration in ``claimdesk/data/carc_routing.json``:

- ``settings``: ``deadline_buffer_days`` (a denial task falls due this many days
  before the payer's deadline), ``write_off_approval_threshold`` (a write-off
  above it needs a lead), default windows when a payer configures none.
- ``routes``: one object per group code + CARC, optionally narrowed by a RARC
  (``rarc``) or a payer kind (``payer_kind``); the most specific match wins.
  ``category`` says what the adjustment *is* (``contractual`` written off,
  ``patient`` responsibility, ``prior_payer`` OA-23, ``denial`` to be worked);
  ``queue`` and ``action`` say who works it and what they will most likely do;
  ``appealable: false`` marks denials without appeal rights.
- ``default_route``: for a code the table does not know (worked as a denial).
- ``carc_text`` / ``rarc_text``: the payer's wording, for letters and the app.

Pure: reading the file is the only I/O, and ``load_routing_table`` caches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimdesk.errors import ConfigError

Category = Literal["contractual", "patient", "prior_payer", "denial"]
Action = Literal["none", "corrected_claim", "appeal", "bill_secondary", "bill_patient", "write_off"]


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(default="*", pattern=r"^(CO|PR|OA|PI|CR|\*)$")
    carc: str = Field(default="*", max_length=5)
    rarc: str | None = None
    payer_kind: str | None = None
    category: Category
    queue: str = Field(max_length=30)
    action: Action
    appealable: bool = True
    explanation: str = Field(min_length=1)

    def specificity(self) -> int:
        return (self.group != "*") + 2 * (self.rarc is not None) + 2 * (self.payer_kind is not None)


class RoutingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_buffer_days: int = Field(default=14, ge=0)
    write_off_approval_threshold: Decimal = Field(default=Decimal("250.00"), ge=0)
    default_appeal_window_days: int = Field(default=180, gt=0)
    default_corrected_claim_window_days: int = Field(default=365, gt=0)


class RoutingTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    settings: RoutingSettings = Field(default_factory=RoutingSettings)
    routes: tuple[Route, ...]
    default_route: Route
    carc_text: dict[str, str] = Field(default_factory=dict)
    rarc_text: dict[str, str] = Field(default_factory=dict)

    def route(
        self,
        group: str,
        carc: str,
        remarks: Iterable[str] = (),
        *,
        payer_kind: str | None = None,
    ) -> Route:
        """The most specific route for ``group``-``carc`` with these remarks and payer kind."""
        remark_set = set(remarks)
        candidates = [
            r
            for r in self.routes
            if r.carc == carc
            and r.group in (group, "*")
            and (r.rarc is None or r.rarc in remark_set)
            and (r.payer_kind is None or r.payer_kind == payer_kind)
        ]
        if not candidates:
            return self.default_route
        return max(candidates, key=Route.specificity)

    def carc_description(self, carc: str) -> str:
        return self.carc_text.get(carc, f"Claim adjustment reason code {carc}.")

    def rarc_description(self, rarc: str) -> str:
        return self.rarc_text.get(rarc, f"Remittance advice remark code {rarc}.")

    def explain(self, group: str, carc: str, remarks: Iterable[str] = (), **kw: str | None) -> str:
        """Plain English for one adjustment (the route's explanation)."""
        return self.route(group, carc, remarks, payer_kind=kw.get("payer_kind")).explanation


def parse_routing_table(text: str, *, source: str = "routing table") -> RoutingTable:
    try:
        return RoutingTable.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not JSON at line {exc.lineno} column {exc.colno}; fix the file."
        ) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}; fix the file.") from exc


@lru_cache(maxsize=4)
def load_routing_table(path: Path | None = None) -> RoutingTable:
    """The shipped table, or the one at ``path`` (an edited copy)."""
    if path is not None:
        return parse_routing_table(path.read_text(encoding="utf-8"), source=str(path))
    text = resources.files("claimdesk").joinpath("data/carc_routing.json").read_text("utf-8")
    return parse_routing_table(text, source="claimdesk/data/carc_routing.json")
