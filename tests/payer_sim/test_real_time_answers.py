"""The simulator's 271 and 277 answers, sampled over hundreds of inquiries, pass our TR3
checks (``check_tr3``; pyx12 has no 271/277 maps worth trusting) and read back with
claimdesk's readers."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from claimdesk.payer_sim.config import SimConfig
from claimdesk.payer_sim.engine import PayerSim
from claimdesk.payer_sim.state import Store
from claimdesk.x12 import read_interchanges
from claimdesk.x12.validate import check_tr3
from tests.payer_sim.builders import CLOCK_START, make_270, make_276, make_837, make_claim

# Roster members of the default config, in every eligibility state it answers for.
MEMBERS = ["M1001", "M1002", "M1005", "MCR2001", "NOBODY"]
CODES = [("99213",), ("99214", "36415"), ("72148",), ("99203", "93000"), ("70551",)]


def sample_sim(tmp_path: Path) -> PayerSim:
    return PayerSim(SimConfig(clock_start=CLOCK_START, seed=5), Store(tmp_path / "sim.db"))


def test_emitted_271s_for_300_inquiries_pass_tr3_and_read_back(tmp_path: Path) -> None:
    sim = sample_sim(tmp_path)
    rng = random.Random(11)
    kinds: Counter[str] = Counter()
    for n in range(300):
        member = rng.choice(MEMBERS)
        birth = date(2001, 1, 1) if rng.random() < 0.1 else None  # AAA 71 now and then
        kind, answer = sim.answer_270(make_270(member, birth, control=n + 1), "CLAIMDESK")
        assert kind == "271"
        assert check_tr3(answer) == [], (member, birth)
        eligibility = read_interchanges(answer)[0].groups[0].transactions[0]
        kinds[eligibility.rejections[0].reason_code if eligibility.rejections else "EB"] += 1
    assert set(kinds) == {"EB", "71", "75"}


def test_emitted_277s_for_claims_in_every_state_pass_tr3_and_read_back(tmp_path: Path) -> None:
    sim = sample_sim(tmp_path)
    rng = random.Random(12)
    claims = [
        make_claim(n, rng.choice(MEMBERS), rng.choice(CODES),
                   service_date=CLOCK_START - timedelta(days=rng.randint(1, 30)))
        for n in range(1, 201)
    ]  # fmt: skip
    data = make_837(claims, control=1)
    sim.submit_837(data, "CLAIMDESK", sim.record(data, "CLAIMDESK", "p-1", "X12_837"))
    categories: Counter[str] = Counter()
    for step, control in ((0, 1000), (3, 2000)):  # before and after adjudication
        sim.advance(step)
        for n, claim in enumerate(claims):
            kind, answer = sim.answer_276(make_276(claim, control=control + n), "CLAIMDESK")
            assert kind == "277"
            assert check_tr3(answer) == [], claim.claim_id
            status = read_interchanges(answer)[0].groups[0].transactions[0]
            categories[status.claims[0].statuses[0].codes[0].category] += 1
    assert {"A2", "A3", "F1", "F2"} <= set(categories)
