"""Reading a FHIR R4 bundle: each resource parsed by ``fhir.resources`` and indexed.

The models are fhir.resources' R4B ones (4.3.0); the resources claimdesk takes
(Patient, RelatedPerson, Coverage, Organization, Practitioner, Claim) are the same
in R4 and R4B, so an R4 bundle reads as it is. A problem names the resource
(``Coverage/cov-1``, or its place in the bundle when it has no id) and the FHIR
element path, never a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from claimdesk.intake.problems import ImportProblem

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
TAKEN = ("Patient", "RelatedPerson", "Coverage", "Organization", "Practitioner", "Claim")
BUNDLE_TYPES = ("collection", "transaction")


class Refused(Exception):
    """One resource cannot be taken: where (type/id), which element, why."""

    def __init__(self, where: str, element: str, reason: str) -> None:
        super().__init__(f"{where}: {element}: {reason}")
        self.problem = ImportProblem(where, element, reason)


@dataclass(frozen=True)
class Entry:
    where: str  # "Coverage/cov-1", or "entry[3] (Coverage)" without an id
    type: str
    resource: Any  # the fhir.resources model


@dataclass
class BundleIndex:
    entries: list[Entry] = field(default_factory=list)
    by_reference: dict[str, Entry] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.type == resource_type]

    def resolve(self, reference: Any, where: str, element: str, *types: str) -> Entry:
        """The bundle's resource a ``Reference`` points at, of one of ``types``."""
        text = getattr(reference, "reference", None) if reference is not None else None
        if not text:
            raise Refused(where, element, f"empty: a reference to a {' or '.join(types)}")
        found = self.by_reference.get(text)
        if found is None and "/" in text and not text.startswith("urn:"):
            found = self.by_reference.get("/".join(text.rstrip("/").split("/")[-2:]))
        if found is None:
            raise Refused(where, element, "points at no resource of the bundle")
        if found.type not in types:
            raise Refused(where, element, f"points at a {found.type}, not a {' or '.join(types)}")
        return found


def read_bundle(data: bytes) -> tuple[BundleIndex, list[ImportProblem]]:
    """Every entry parsed (problems for all that cannot be), indexed by reference."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    index = BundleIndex()
    try:
        # Decimals exactly as written: 92.10 stays 92.10, never a float.
        raw = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        return index, [ImportProblem("file", "file", f"not UTF-8 (byte {exc.start})")]
    except ValueError as exc:
        return index, [ImportProblem("file", "file", f"not JSON ({exc.args[0][:80]})")]
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        return index, [ImportProblem("file", "resourceType", "not a FHIR Bundle")]
    entries = raw.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return index, [ImportProblem("Bundle", "entry", "a list of entries is needed")]
    problems: list[ImportProblem] = []
    # The envelope through the library too (type, fullUrl, request), resources apart.
    envelope = {**raw, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    try:
        bundle = Bundle.model_validate(envelope)
    except ValidationError as exc:
        return index, [_problem("Bundle", error) for error in exc.errors()]
    if bundle.type not in BUNDLE_TYPES:
        reason = f"a {' or '.join(BUNDLE_TYPES)} bundle is taken"
        return index, [ImportProblem("Bundle", "type", reason)]
    for number, (item, parsed) in enumerate(zip(entries, bundle.entry or [], strict=True)):
        resource = item.get("resource")
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        rid = resource.get("id") if isinstance(resource, dict) else None
        where = f"{kind}/{rid}" if kind and rid else f"entry[{number}] ({kind or 'no resource'})"
        if not isinstance(resource, dict) or not isinstance(kind, str):
            problems.append(ImportProblem(where, "resource", "an entry needs a resource"))
            continue
        if kind not in TAKEN:
            reason = f"not taken (a bundle of {', '.join(TAKEN)})"
            problems.append(ImportProblem(where, "resourceType", reason))
            continue
        method = parsed.request.method if parsed.request is not None else None
        if bundle.type == "transaction" and method not in ("POST", "PUT"):
            reason = "POST or PUT (claimdesk creates or updates; it never deletes)"
            problems.append(ImportProblem(where, "request.method", reason))
            continue
        try:
            model = get_fhir_model_class(kind).model_validate(resource)
        except ValidationError as exc:
            problems.extend(_problem(where, error) for error in exc.errors())
            continue
        entry = Entry(where, kind, model)
        keys = [f"{kind}/{rid}"] if rid else []
        if parsed.fullUrl:
            keys.append(parsed.fullUrl)
        for key in keys:
            if key in index.by_reference:
                earlier = index.by_reference[key].where
                problems.append(ImportProblem(where, "id", f"the same resource as {earlier}"))
                break
            index.by_reference[key] = entry
        else:
            index.entries.append(entry)
    if not index.entries and not problems:
        problems.append(ImportProblem("Bundle", "entry", "no resources"))
    return index, problems


def _problem(where: str, error: Any) -> ImportProblem:
    parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
        else:
            parts.append("class" if part == "class_fhir" else str(part))
    # pydantic's message, never its "input" (the value may be PHI).
    return ImportProblem(where, ".".join(parts) or "resource", str(error["msg"]))


# --- small readers shared by the resource converters -------------------------------------


def identifier(resource: Any, *, system: str | None = None, type_code: str | None = None) -> str:
    """The value of the resource's first identifier of that system or v2-0203 type; ''."""
    for ident in getattr(resource, "identifier", None) or []:
        if system is not None and ident.system != system:
            continue
        if type_code is not None and not any(
            c.code == type_code and c.system in (V2_0203, None)
            for c in (ident.type.coding or [] if ident.type else [])
        ):
            continue
        if ident.value:
            return str(ident.value).strip()
    return ""


def coding(concept: Any, systems: tuple[str, ...] | None = None) -> str:
    """The code of the concept's first coding (of one of ``systems``); ''."""
    for code in getattr(concept, "coding", None) or []:
        if systems is not None and code.system not in systems:
            continue
        if code.code:
            return str(code.code).strip()
    return ""


def human_name(resource: Any) -> tuple[str | None, str | None]:
    """(family, given) of the official name (else the first), as written."""
    names = getattr(resource, "name", None) or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None:
        return None, None
    given = " ".join(g.strip() for g in name.given or [] if g and g.strip())
    return (name.family.strip() if name.family else None), (given or None)


def as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
