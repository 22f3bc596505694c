"""CARC/RARC routing: which queue, which default action, in plain English.

Every CARC in the shipped code set (``claimdesk/codes/data/carc.csv``) carries a
*class* (contractual reduction, patient responsibility, needs information,
coding, eligibility/coverage, authorization, timely filing, duplicate,
coordination of benefits, medical necessity, non-covered, payer error); the
class decides its default route. The editable table in
``claimdesk/data/carc_routing.json`` sits on top:

- ``settings``: ``deadline_buffer_days`` (a denial task falls due this many days
  before the payer's deadline), ``write_off_approval_threshold`` (a write-off
  above it needs a lead), default windows when a payer configures none.
- ``routes``: overrides, one object per group code + CARC, optionally narrowed by
  a RARC (``rarc``) or a payer kind (``payer_kind``); the most specific match wins.
- ``class_routes``: the default route of each class. ``category`` says what the
  adjustment *is* (``contractual`` written off, ``patient`` responsibility,
  ``prior_payer`` OA-23, ``denial`` to be worked); ``queue`` and ``action`` say
  who works it and what they will most likely do; ``appealable: false`` marks
  denials without appeal rights. ``{carc}`` and ``{group}`` in an explanation
  are filled in.
- ``group_class_routes``: per group code, changes to a class's route (by class,
  or ``*`` for every class not named); ``null`` keeps the class route. PR: the
  payer says the patient owes it, whatever the class.
- ``default_route``: for a code no list knows: the ``triage`` queue, no action
  suggested, never an appeal by default.
- ``carc_text`` / ``rarc_text``: short wording for letters and the app; the code
  sets' words are used for every other code.

Pure: reading the files is the only I/O, and ``load_routing_table`` caches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimdesk.codes import loader as codes
from claimdesk.errors import ConfigError

Category = Literal["contractual", "patient", "prior_payer", "denial"]
Action = Literal["none", "corrected_claim", "appeal", "bill_secondary", "bill_patient", "write_off"]
CarcClass = Literal[
    "contractual",
    "patient_responsibility",
    "needs_information",
    "coding",
    "eligibility_coverage",
    "authorization",
    "timely_filing",
    "duplicate",
    "coordination_of_benefits",
    "medical_necessity",
    "non_covered",
    "payer_error",
]
CARC_CLASSES: tuple[str, ...] = get_args(CarcClass)
TRIAGE_QUEUE = "triage"


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
    # Where the route came from: an override in ``routes``, a class, or triage.
    basis: str = "override"

    def specificity(self) -> int:
        return (self.group != "*") + 2 * (self.rarc is not None) + 2 * (self.payer_kind is not None)


class RouteTemplate(BaseModel):
    """A class's default route (no group/CARC of its own)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    queue: str = Field(max_length=30)
    action: Action
    appealable: bool = True
    explanation: str = Field(min_length=1)


class RoutePatch(BaseModel):
    """What a group code changes in a class's route."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category | None = None
    queue: str | None = Field(default=None, max_length=30)
    action: Action | None = None
    appealable: bool | None = None
    explanation: str | None = Field(default=None, min_length=1)


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
    class_routes: dict[CarcClass, RouteTemplate] = Field(default_factory=dict)
    group_class_routes: dict[str, dict[str, RoutePatch | None]] = Field(default_factory=dict)
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
        """The route for ``group``-``carc`` with these remarks and payer kind.

        An override in ``routes`` wins (the most specific); else the CARC's class
        decides, changed by its group code; a code the CARC list does not know
        goes to triage with the code in its explanation.
        """
        remark_set = set(remarks)
        candidates = [
            r
            for r in self.routes
            if r.carc == carc
            and r.group in (group, "*")
            and (r.rarc is None or r.rarc in remark_set)
            and (r.payer_kind is None or r.payer_kind == payer_kind)
        ]
        if candidates:
            return max(candidates, key=Route.specificity)
        return self.class_route(group, carc)

    def class_route(self, group: str, carc: str) -> Route:
        """The route the CARC's class gives (no overrides), or the triage route."""
        code = codes.lookup("carc", carc)
        template = self.class_routes.get(code.code_class) if code and code.code_class else None  # type: ignore[call-overload]
        if code is None or template is None:
            return self.triage_route(group, carc)
        fields: dict[str, Any] = template.model_dump()
        patches = self.group_class_routes.get(group, {})
        patch = patches[code.code_class] if code.code_class in patches else patches.get("*")
        if patch is not None:
            fields.update(patch.model_dump(exclude_none=True))
        fields["explanation"] = fields["explanation"].format(carc=carc, group=group)
        return Route(
            group=group if group in ("CO", "PR", "OA", "PI", "CR") else "*",
            carc=carc[:5],
            basis=f"class:{code.code_class}",
            **fields,
        )

    def triage_route(self, group: str, carc: str) -> Route:
        version = codes.load("carc").version
        explanation = self.default_route.explanation.format(carc=carc, group=group, version=version)
        return self.default_route.model_copy(update={"explanation": explanation, "basis": "triage"})

    def carc_class(self, carc: str) -> str | None:
        code = codes.lookup("carc", carc)
        return code.code_class if code else None

    def carc_description(self, carc: str) -> str:
        return (
            self.carc_text.get(carc)
            or codes.words("carc", carc)
            or f"Claim adjustment reason code {carc}."
        )

    def rarc_description(self, rarc: str) -> str:
        return (
            self.rarc_text.get(rarc)
            or codes.words("rarc", rarc)
            or f"Remittance advice remark code {rarc}."
        )

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


def check_classes_covered(table: RoutingTable, *, source: str) -> None:
    """Every class the CARC list uses needs a class route (else its codes would go to triage)."""
    used = {c.code_class for c in codes.load("carc") if c.code_class}
    missing = sorted(used - set(table.class_routes))
    if missing:
        raise ConfigError(f"{source}: class_routes has no route for {', '.join(missing)}.")


@lru_cache(maxsize=4)
def load_routing_table(path: Path | None = None) -> RoutingTable:
    """The shipped table, or the one at ``path`` (an edited copy)."""
    if path is not None:
        source = str(path)
        table = parse_routing_table(path.read_text(encoding="utf-8"), source=source)
    else:
        source = "claimdesk/data/carc_routing.json"
        text = resources.files("claimdesk").joinpath("data/carc_routing.json").read_text("utf-8")
        table = parse_routing_table(text, source=source)
    if table.class_routes:
        check_classes_covered(table, source=source)
    return table
