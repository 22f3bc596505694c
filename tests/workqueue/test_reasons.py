"""The queue says why: each kind's context becomes a line of plain words and an action."""

from __future__ import annotations

from claimdesk.workqueue.reasons import why_in_queue


def test_a_denial_names_its_codes_in_words_and_the_suggested_action() -> None:
    reason = why_in_queue(
        "denial",
        {
            "group_code": "CO",
            "reason_code": "16",
            "remark_codes": ["N290"],
            "suggested_action": "corrected_claim",
            "queue": "coding",
            "appealable": True,
        },
    )
    assert reason.why.startswith("CO-16 + N290: ")
    assert "information" in reason.why.lower()  # CARC 16's published words
    assert reason.action == "correct and resubmit"


def test_an_unknown_code_goes_to_triage_with_the_code_shown() -> None:
    reason = why_in_queue("denial", {"group_code": "CO", "reason_code": "Z99", "queue": "triage"})
    assert "CO-Z99" in reason.why and reason.action.startswith("triage")


def test_eligibility_says_which_check_failed() -> None:
    assert (
        "another payer is primary" in why_in_queue("eligibility", {"outcome": "other_primary"}).why
    )
    unbuilt = why_in_queue(
        "eligibility", {"outcome": "unbuildable", "field": "subscriber.last_name", "rule": "empty"}
    )
    assert "subscriber.last_name" in unbuilt.why


def test_a_scrub_hold_names_the_first_finding_and_counts_the_rest() -> None:
    reason = why_in_queue(
        "scrub",
        {
            "findings": [
                {"rule_id": "R1", "field": "lines[1].modifiers", "message": "needs GP"},
                {"rule_id": "R2", "field": "diagnoses", "message": "invalid"},
            ]
        },
    )
    assert reason.why == "lines[1].modifiers: needs GP (+1 more)"


def test_every_kind_gets_a_line_even_with_an_empty_context() -> None:
    from claimdesk.workqueue.kinds import ALL_KINDS

    for kind in ALL_KINDS:
        reason = why_in_queue(kind, {})
        assert reason.why and reason.action, kind
        assert "None" not in reason.line(), kind
