"""The streamed 835 sets posting decides on: the same hash and balance as the whole read."""

from __future__ import annotations

import pytest

from bench.x12 import generate_835
from claimdesk.errors import ValidationFailed
from claimdesk.remittance.file_import import check_835_file
from claimdesk.remittance.set_stream import (
    check_models,
    check_sets,
    claim_streams,
    content_hash,
    crossover_carriers,
)
from claimdesk.x12 import Remittance835, iter_transactions
from tests.denials.builders_835 import Clp, Svc, remit
from tests.x12.test_parse_835 import wrap
from tests.x12.test_samples import EXPECTED, SAMPLES


def _whole(data: bytes) -> list[Remittance835]:
    sets = [p.transaction for p in iter_transactions(data)]
    assert all(isinstance(s, Remittance835) for s in sets)
    return sets


def _files() -> list[bytes]:
    plb = remit(
        [
            Clp("PCN1", "1", "200", "150", "50", crossover_to="MEDIGAP1"),
            Clp(
                "PCN2", "4", "80", "0", services=(Svc("99213", "80", "0", {"CO": (("50", "80"),)}),)
            ),
        ],
        plb=(("WO", "EFT0001", "-5.00"),),
    )
    files = [plb, remit([Clp("PCN3", "1", "10", "10")], total="11.00"), generate_835(7, 3)]
    if SAMPLES.is_dir():
        files += [
            (SAMPLES / k).read_bytes() for k, v in EXPECTED.items() if k[:4] == "835/" and v is None
        ]
    return files


@pytest.mark.parametrize("data", _files())
def test_a_streamed_set_has_the_whole_models_hash_and_balance(data: bytes) -> None:
    whole = _whole(data)
    checked = check_sets(data)
    assert [c.digest for c in checked] == [content_hash(s) for s in whole]
    assert checked == check_models(whole)
    streamed = [list(claims) for claims in claim_streams(data)]
    assert streamed == [list(s.claims) for s in whole]


def test_a_set_left_unread_is_skipped_over_to_the_next() -> None:
    data = generate_835(7, 3)
    firsts = [next(claims).patient_control_number for claims in claim_streams(data)]
    assert firsts == ["PCN00000000", "PCN00000003", "PCN00000006"]


def test_an_unbalanced_set_is_known_before_any_claim_is_read_for_posting() -> None:
    [checked] = check_sets(remit([Clp("PCN3", "1", "10", "10")], total="11.00"))
    assert not checked.balanced and [e.rule for e in checked.balance_errors] == ["payment"]


def test_crossover_carriers_name_the_forwarded_claims_only() -> None:
    data = remit(
        [Clp("PCN1", "1", "10", "5", "5", crossover_to="MEDIGAP1"), Clp("PCN2", "1", "1", "1")]
    )
    assert crossover_carriers(data) == {"PCN1": "MEDIGAP1"}


def test_checking_a_file_counts_its_835s_and_refuses_another_kind_of_set() -> None:
    assert check_835_file(generate_835(7, 3)) == 3
    other = wrap("BHT*0022*13*1*20240102*1200~", set_id="276").encode()
    with pytest.raises(ValidationFailed) as refused:
        check_835_file(other)
    assert "transaction set 0001 (group 1) is a 276, not an 835" in str(refused.value)
