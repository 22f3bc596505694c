"""What the payer simulator plants, the learners find: a modifier a payer requires, a code
it bundles and a rate cut on a date. The simulator adjudicates (its own pure code); its
835 lines are written as posted rows; the learners read them from the database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from claimdesk.learning.backtest import backtest
from claimdesk.learning.history import line_outcomes
from claimdesk.learning.patterns import suggest_rules
from claimdesk.learning.rates import rate_cuts
from claimdesk.payer_sim.adjudicate import LineResult, adjudicate_claim
from claimdesk.payer_sim.config import PayerConfig, RateChange, RosterMember, SimConfig
from claimdesk.payer_sim.inbound import InClaim, InLine, Person
from tests.learning.history import Line, office

TODAY = date(2026, 12, 20)
BLU = PayerConfig(
    payer_id="SIMBLU",
    name="SIM BLUE",
    required_modifiers={"97110": "GP"},
    bundles=[("97530", "97140")],
)
ACM = PayerConfig(
    payer_id="SIMACM",
    name="SIM ACME",
    rate_changes=[RateChange(code="99214", effective=date(2026, 11, 1), factor=Decimal("0.94"))],
)
MEMBER = RosterMember(
    member_id="M1",
    first_name="A",
    last_name="B",
    birth_date=date(1980, 1, 1),
    copay=Decimal(0),
    deductible_remaining=Decimal(0),
)
CONFIG = SimConfig(payers=[BLU, ACM], roster=[MEMBER], bundles=[])


def _adjudicate(
    payer: PayerConfig, served: date, *lines: tuple[str, tuple[str, ...]]
) -> list[Line]:
    claim = InClaim(
        kind="P",
        patient_control_number="P1",
        total_charge=Decimal(150) * len(lines),
        facility_code="11",
        frequency="1",
        diagnoses=["M5450"],
        subscriber=Person(member_id="M1", birth_date=MEMBER.birth_date),
        payer_id=payer.payer_id,
        lines=[
            InLine(number=n, procedure=code, modifiers=list(mods), charge=Decimal(150),
                   service_date=served, pointers=["1"])
            for n, (code, mods) in enumerate(lines, start=1)
        ],
    )  # fmt: skip
    result = adjudicate_claim(claim, member=MEMBER, payer=payer, config=CONFIG, received=served)
    return [_posted(line) for line in result.lines]


def _posted(line: LineResult) -> Line:
    def total(group: str) -> Decimal:
        return sum((c.amount for c in line.adjustments if c.group == group), Decimal(0))

    denied = line.paid == 0 and not total("PR")
    return Line(
        line.procedure,
        str(line.charge),
        modifiers=line.modifiers,
        paid=str(line.paid),
        denied=line.adjustments[0].reason if denied else None,
        patient=str(total("PR")),
        contractual="0" if denied else str(total("CO")),
    )


def _plant(session: Session) -> None:
    blu, acm = office(session, "SIMBLU"), office(session, "SIMACM")
    for week in range(10):
        served = date(2026, 10, 1) + timedelta(days=7 * week)
        paid_on = served + timedelta(days=3)
        for modifiers in ((), ("GP",)):
            lines = _adjudicate(BLU, served, ("97110", modifiers))
            blu.claim(lines, served=served, paid_on=paid_on)
        pair = _adjudicate(BLU, served, ("97140", ("GP",)), ("97530", ("GP",)))
        blu.claim(pair, served=served, paid_on=paid_on)
        alone = _adjudicate(BLU, served, ("97530", ("GP",)))
        blu.claim(alone, served=served, paid_on=paid_on)
        visit = _adjudicate(ACM, served, ("99214", ()))
        acm.claim(visit, served=served, paid_on=paid_on)


def test_the_planted_modifier_bundle_and_rate_cut_are_found(session: Session) -> None:
    _plant(session)
    history = line_outcomes(session, today=TODAY)
    found = {(s.rule.kind, s.rule.procedure_code): s for s in suggest_rules(history)}
    modifier = found[("required_modifier", "97110")]
    assert (modifier.rule.payer_id, modifier.rule.modifier, modifier.carc) == (
        "SIMBLU",
        "GP",
        "CO-4",
    )
    assert (modifier.bad_denied, modifier.bad_total, modifier.good_total) == (10, 10, 10)
    bundle = found[("bundled_pair", "97530")]
    assert (bundle.rule.other_code, bundle.carc) == ("97140", "CO-97")
    assert (bundle.bad_denied, bundle.bad_total, bundle.good_denied) == (10, 10, 0)
    assert set(found) == {("required_modifier", "97110"), ("bundled_pair", "97530")}
    test = backtest(modifier.rule, history)
    assert (test.denials_caught, test.false_holds, test.dollars_caught) == (
        10,
        0,
        Decimal("1500.00"),
    )
    [cut] = rate_cuts(history)
    assert cut.words == "SIMACM cut 99214 by 6% since 2026-11-01"
    assert (cut.before, cut.after) == (Decimal("130.00"), Decimal("122.20"))
