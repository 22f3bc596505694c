"""Names as people write them, on the wire: transliterated by every writer, pyx12-clean."""

from __future__ import annotations

from typing import Any

import pytest

from claimdesk.x12 import write_270, write_276, write_837
from claimdesk.x12._pyx12 import validate_with_pyx12
from claimdesk.x12.charset import carry_problem, to_x12_text
from claimdesk.x12.claim_data import Address, PersonName, X12Model
from claimdesk.x12.validate import validate
from tests.x12.strategies import make_270, make_276, make_837_batch

# (language, last name, first name, street, city) as written, and as X12 carries them.
PEOPLE = [
    ("Spanish", "Nuñez Peña", "José", "Calle Añil 12", "Logroño"),
    ("Polish", "Wiśniewski", "Łukasz", "ul. Żółkiewskiego 3", "Łódź"),
    ("Icelandic", "Þórsson", "Sigurður", "Þórsgata 5", "Reykjavík"),
    ("Chinese", "王", "小明", "长安街 1号", "北京"),
]
ON_THE_WIRE = {
    "Spanish": ("Nunez Pena", "Jose", "Calle Anil 12", "Logrono"),
    "Polish": ("Wisniewski", "Lukasz", "ul. Zolkiewskiego 3", "Lodz"),
    "Icelandic": ("Thorsson", "Sigurdur", "Thorsgata 5", "Reykjavik"),
    "Chinese": ("Wang", "XiaoMing", "ZhangAnJie 1Hao", "BeiJing"),
}


def _with(model: X12Model, **changes: Any) -> Any:
    """``model`` rebuilt (validated again) with ``changes``: what a caller's new data does."""
    return type(model).model_validate({**model.model_dump(), **changes})


def _person(language: str) -> dict[str, Any]:
    _, last, first, street, city = next(p for p in PEOPLE if p[0] == language)
    return {"last_name": last, "first_name": first, "street": street, "city": city}


@pytest.mark.parametrize("language", [p[0] for p in PEOPLE])
def test_to_x12_text_transliterates_each_language(language: str) -> None:
    person = _person(language)
    got = tuple(to_x12_text(person[k]) for k in ("last_name", "first_name", "street", "city"))
    assert got == ON_THE_WIRE[language]
    assert all(value.isascii() and value.isprintable() for value in got)


def test_to_x12_text_leaves_x12_text_alone_and_tidies_the_rest() -> None:
    assert to_x12_text("O'BRIEN-SMITH JR.") == "O'BRIEN-SMITH JR."
    assert to_x12_text("  José \t María\n") == "Jose Maria"  # controls and runs of blanks
    assert to_x12_text("O\u2019Brien") == "O'Brien"  # typographic apostrophe


@pytest.mark.parametrize(
    ("value", "problem"),
    [("Nuñez", None), ("王", None), ("", "empty"), ("\u200b", "empty"), ("★", "delimiter"),
     ("~ ~", "delimiter"), ("A*B", None)],
)  # fmt: skip
def test_carry_problem_names_what_cannot_go(value: str, problem: str | None) -> None:
    assert carry_problem(value) == problem


def test_models_transliterate_text_and_keep_refusing_what_cannot_go() -> None:
    name = PersonName(last_name="Þórsson", first_name="Sigurður")
    assert (name.last_name, name.first_name) == ("Thorsson", "Sigurdur")
    address = Address(line1="Þórsgata 5", city="Reykjavík", state="NY", postal_code="10001")
    assert (address.line1, address.city) == ("Thorsgata 5", "Reykjavik")
    with pytest.raises(ValueError, match="last_name"):
        PersonName(last_name="\u200b")


@pytest.mark.parametrize("kind", ["P", "I"])
def test_837_with_names_in_four_languages_passes_pyx12(kind: str) -> None:
    batch = make_837_batch(kind, 8)  # type: ignore[arg-type]
    claims = []
    for index, claim in enumerate(batch.claims):
        person = _person(PEOPLE[index % len(PEOPLE)][0])
        street = _with(claim.subscriber.address, line1=person["street"], city=person["city"])
        subscriber = _with(
            claim.subscriber,
            last_name=person["last_name"],
            first_name=person["first_name"],
            address=street.model_dump(),
        )
        claims.append(claim.model_copy(update={"subscriber": subscriber}))
    data = write_837(batch.model_copy(update={"claims": tuple(claims)}))
    assert validate_with_pyx12(data) == []
    text = data.decode("ascii")
    for language, (last, first, street, city) in ON_THE_WIRE.items():
        assert f"NM1*IL*1*{last}*{first}" in text, language
        assert f"N3*{street}" in text and f"N4*{city}*" in text, language


def test_270_and_276_with_names_in_four_languages_pass_the_tr3_checks() -> None:
    for language in ON_THE_WIRE:
        person = _person(language)
        names = {"last_name": person["last_name"], "first_name": person["first_name"]}
        eligibility = make_270()
        inquiry = eligibility.inquiries[0]
        inquiry = _with(inquiry, subscriber=_with(inquiry.subscriber, **names).model_dump())
        data = write_270(eligibility.model_copy(update={"inquiries": (inquiry,)}))
        assert validate(data) == [], language
        last, first, _, _ = ON_THE_WIRE[language]
        assert f"NM1*IL*1*{last}*{first}" in data.decode("ascii")
        status = make_276()
        asked = _with(
            status.inquiries[0],
            subscriber=_with(status.inquiries[0].subscriber, **names).model_dump(),
        )
        data = write_276(status.model_copy(update={"inquiries": (asked,)}))
        assert validate(data) == [], language
        assert f"NM1*IL*1*{last}*{first}" in data.decode("ascii")
