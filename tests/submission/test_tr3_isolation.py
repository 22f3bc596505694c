"""The TR3 check of a batch finds the claim that fails it; the others go together."""

from __future__ import annotations

import json

from claimdesk.claims.wire_data import WireClaim
from claimdesk.submission.build import _tr3_check
from tests.x12.strategies import make_837_batch

# 39 characters: one more than CLM01 allows. The models refuse it; model_copy does not
# validate, which stands in for whatever a model cannot see but pyx12 can.
TOO_LONG_PCN = "P" * 39


def _wire(batch_claims: tuple) -> list[WireClaim]:  # type: ignore[type-arg]
    return [WireClaim(1000 + n, 1, claim, ()) for n, claim in enumerate(batch_claims)]


def test_a_clean_batch_goes_whole() -> None:
    batch = make_837_batch("P", 5)
    claims = _wire(batch.claims)
    failing, groups = _tr3_check(batch, claims)
    assert failing == {} and groups == [claims]


def test_the_claim_that_fails_pyx12_is_named_and_the_rest_go_in_one_interchange() -> None:
    batch = make_837_batch("P", 5)
    bad = batch.claims[2].model_copy(update={"patient_control_number": TOO_LONG_PCN})
    batch = batch.model_copy(update={"claims": (*batch.claims[:2], bad, *batch.claims[3:])})
    claims = _wire(batch.claims)

    failing, groups = _tr3_check(batch, claims)

    assert set(failing) == {1002}
    problem = failing[1002]
    assert (problem.stage, problem.field, problem.rule) == (
        "tr3",
        "CLM01",
        "pyx12:5",
    )  # 5: too long
    assert TOO_LONG_PCN not in json.dumps(problem.__dict__)  # pyx12's message quotes the value
    assert groups == [[c for c in claims if c.claim_id != 1002]]
