"""Routing by CARC class: reductions post with no denial, an unknown code goes to triage."""

from __future__ import annotations

import pytest

from claimdesk.denials import load_routing_table

REDUCTIONS = [
    ("CO", "45"),
    ("CO", "253"),
    ("CO", "59"),
    ("CO", "94"),
    ("CO", "131"),
    ("CO", "144"),
    ("PI", "45"),
    ("OA", "45"),
]


@pytest.mark.parametrize(("group", "carc"), REDUCTIONS)
def test_a_reduction_posts_as_contractual_with_no_denial(group: str, carc: str) -> None:
    route = load_routing_table().route(group, carc)
    assert (route.category, route.queue, route.action) == ("contractual", "none", "none")


def test_pr_27_goes_to_eligibility_and_patient_billing() -> None:
    route = load_routing_table().route("PR", "27")
    # category denial + group PR: posting moves the amount to the patient and opens the
    # denial in the eligibility queue.
    assert (route.category, route.queue, route.action) == ("denial", "eligibility", "bill_patient")


def test_co_22_re_sequences_the_payers() -> None:
    route = load_routing_table().route("CO", "22")
    assert (route.queue, route.action) == ("coordination", "bill_secondary")


@pytest.mark.parametrize(
    ("group", "carc", "queue", "action"),
    [
        ("CO", "236", "coding", "corrected_claim"),  # NCCI pair: fix the coding
        ("CO", "B7", "eligibility", "corrected_claim"),  # provider not certified that day
    ],
)
def test_other_denials_route_by_class_not_to_appeal(
    group: str, carc: str, queue: str, action: str
) -> None:
    route = load_routing_table().route(group, carc)
    assert (route.category, route.queue, route.action) == ("denial", queue, action)
    assert route.basis.startswith("class:")


def test_patient_responsibility_stays_patient_and_pr_reduction_is_billed() -> None:
    table = load_routing_table()
    assert table.route("PR", "2").category == "patient"
    pr_45 = table.route("PR", "45")
    assert (pr_45.category, pr_45.action) == ("patient", "bill_patient")


def test_an_unknown_code_goes_to_triage_not_appeal() -> None:
    route = load_routing_table().route("CO", "Z99")
    assert (route.category, route.queue, route.action) == ("denial", "triage", "none")
    assert route.action != "appeal"
    assert "CARC Z99" in route.explanation and "version" in route.explanation


def test_overrides_still_win_over_the_class() -> None:
    table = load_routing_table()
    assert table.route("OA", "23").category == "prior_payer"  # a COB-class code, overridden
    medicare_29 = table.route("CO", "29", payer_kind="medicare")
    assert (medicare_29.action, medicare_29.appealable) == ("write_off", False)
    assert table.route("CO", "16", ["MA130"]).appealable is False


def test_no_known_carc_routes_to_triage() -> None:
    from claimdesk.codes import loader

    table = load_routing_table()
    triaged = [c.code for c in loader.load("carc") if table.route("CO", c.code).queue == "triage"]
    assert triaged == []
