"""What falls due on the simulated clock: adjudication, replacements/voids, appeals, 835s.

``run_due`` adjudicates accepted claims whose due date has come (in the order
received), reverses originals of replacement (7) and void (8) claims, decides
appeals, and leaves one 835 interchange per submitter and payer for pickup,
with one 835 set per billing provider (payee).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from claimdesk.payer_sim._x12 import Outbound
from claimdesk.payer_sim.adjudicate import (
    ZERO,
    ClaimResult,
    adjudicate_claim,
    decide_appeal,
    reverse_result,
)
from claimdesk.payer_sim.config import PayerConfig, RosterMember, SimConfig
from claimdesk.payer_sim.emit_835 import Payment, ProviderAdjustment, RemitClaim, emit_835
from claimdesk.payer_sim.inbound import InClaim
from claimdesk.payer_sim.state import Store

if TYPE_CHECKING:
    from sqlite3 import Row


class PayerSim(Protocol):
    """The simulator as remittances use it (``claimdesk.payer_sim.engine.PayerSim``).

    A protocol rather than an import: the engine runs what fell due here, so importing
    the engine back would tie the two modules in a circle.
    """

    config: SimConfig
    store: Store

    def today(self) -> date: ...
    def payer(self, payer_id: str) -> PayerConfig: ...
    def member(self, member_id: str) -> RosterMember | None: ...
    def add_members(self, members: Sequence[RosterMember]) -> None: ...
    def rng(self, purpose: str) -> random.Random: ...
    def outbound(self, sender_id: str, receiver_id: str) -> Outbound: ...
    def queue_file(self, kind: str, recipient: str, data: bytes, payload_id: str) -> None: ...
    def payload_id(self, kind: str) -> str: ...


@dataclass
class _Batch:
    """Remittance items for one submitter and payer, by payee."""

    payees: dict[tuple[str, str], list[tuple[int, RemitClaim]]] = field(default_factory=dict)

    def add(self, row_id: int, item: RemitClaim) -> None:
        key = (item.claim.billing_npi, item.claim.billing_name)
        self.payees.setdefault(key, []).append((row_id, item))


def _claim(row: Row) -> InClaim:
    return InClaim.model_validate_json(row["claim"])


def _received(row: Row) -> date:
    return date.fromisoformat(row["received_on"])


def run_due(sim: PayerSim) -> None:
    today = sim.today()
    batches: dict[tuple[str, str], _Batch] = {}

    def batch(row: Row) -> _Batch:
        return batches.setdefault((row["recipient"], row["payer_id"]), _Batch())

    paid_keys = {
        r["dup_key"]
        for r in sim.store.query(
            "SELECT dup_key, result FROM claims WHERE status = 'adjudicated' AND frequency = '1'"
        )
        if ClaimResult.model_validate_json(r["result"]).paid > 0
    }
    due = sim.store.query(
        "SELECT * FROM claims WHERE status = 'accepted' AND due_on <= ? ORDER BY id",
        (today.isoformat(),),
    )
    for row in due:
        claim = _claim(row)
        if claim.frequency in ("7", "8") and claim.original_ref:
            original = sim.store.query(
                "SELECT * FROM claims WHERE status = 'adjudicated' AND "
                "(payer_claim_number = ? OR claim_ref = ?) ORDER BY id DESC LIMIT 1",
                (claim.original_ref, claim.original_ref),
            )
            if original:
                _reverse(sim, original[0], batch(original[0]))
        if claim.frequency == "8":
            _update(sim, row["id"], status="voided", adjudicated_on=today.isoformat())
            continue
        result = _adjudicate(sim, claim, _received(row), paid_keys, ())
        if result.paid > 0 and claim.frequency == "1":
            paid_keys.add(row["dup_key"])
        _update(sim, row["id"], status="adjudicated", adjudicated_on=today.isoformat(),
                result=result.model_dump_json())  # fmt: skip
        batch(row).add(row["id"], RemitClaim(claim, result, row["payer_claim_number"],
                                              _received(row)))  # fmt: skip
    _decide_appeals(sim, batch)
    for (recipient, payer_id), remit in batches.items():
        _emit(sim, recipient, payer_id, remit)


def _adjudicate(
    sim: PayerSim, claim: InClaim, received: date, paid_keys: set[str], overturned: tuple[str, ...]
) -> ClaimResult:
    member = sim.member(claim.subscriber.member_id)
    result = adjudicate_claim(
        claim, member=member, payer=sim.payer(claim.payer_id), config=sim.config,
        received=received, paid_keys=paid_keys, overturned=overturned,
    )  # fmt: skip
    if member is not None and (result.deductible_used or result.out_of_pocket_used):
        sim.add_members([member.model_copy(update={
            "deductible_remaining": member.deductible_remaining - result.deductible_used,
            "out_of_pocket_remaining": member.out_of_pocket_remaining - result.out_of_pocket_used,
        })])  # fmt: skip
    return result


def _reverse(sim: PayerSim, row: Row, remit: _Batch) -> None:
    result = ClaimResult.model_validate_json(row["result"])
    reversal = reverse_result(result)
    member = sim.member(row["member_id"])
    if member is not None:
        sim.add_members([member.model_copy(update={
            "deductible_remaining": member.deductible_remaining + result.deductible_used,
            "out_of_pocket_remaining": member.out_of_pocket_remaining + result.out_of_pocket_used,
        })])  # fmt: skip
    _update(sim, row["id"], status="reversed")
    remit.add(row["id"], RemitClaim(_claim(row), reversal, row["payer_claim_number"],
                                    _received(row)))  # fmt: skip


def _update(sim: PayerSim, row_id: int, **values: Any) -> None:
    columns = ", ".join(f"{name} = ?" for name in values)
    with sim.store.transaction() as conn:
        conn.execute(f"UPDATE claims SET {columns} WHERE id = ?", (*values.values(), row_id))


def _decide_appeals(sim: PayerSim, batch: Any) -> None:
    today = sim.today()
    pending = sim.store.query(
        "SELECT * FROM appeals WHERE status = 'pending' AND due_on <= ? ORDER BY id",
        (today.isoformat(),),
    )
    for appeal in pending:
        rows = sim.store.query("SELECT * FROM claims WHERE id = ?", (appeal["claim_row"],))
        row = rows[0]
        result = ClaimResult.model_validate_json(row["result"])
        enclosures = json.loads(appeal["enclosures"] or "[]")
        overturned, reason = decide_appeal(result.denials, has_documentation=bool(enclosures))
        with sim.store.transaction() as conn:
            conn.execute(
                "UPDATE appeals SET status = ?, decision = ? WHERE id = ?",
                ("overturned" if overturned else "upheld", reason, appeal["id"]),
            )
        if not overturned or row["status"] != "adjudicated":
            continue
        remit = batch(row)
        _reverse(sim, row, remit)
        claim = _claim(row)
        new = _adjudicate(sim, claim, _received(row), set(), tuple(result.denials))
        _update(sim, row["id"], status="adjudicated", adjudicated_on=today.isoformat(),
                result=new.model_dump_json())  # fmt: skip
        remit.add(row["id"], RemitClaim(claim, new, row["payer_claim_number"], _received(row)))


def _emit(sim: PayerSim, recipient: str, payer_id: str, remit: _Batch) -> None:
    payer = sim.payer(payer_id)
    today = sim.today()
    pay_date = today + timedelta(days=2)
    payments: list[tuple[Payment, list[int]]] = []
    for (npi, name), items in remit.payees.items():
        trace = f"{today:%y%m%d}{sim.store.next_number('eft'):06d}"
        payment = Payment(payer, name, npi or "0000000000", trace, pay_date,
                          [item for _, item in items])  # fmt: skip
        rng = sim.rng("plb")
        if payment.claim_total > 0 and rng.random() < sim.config.interest_probability:
            interest = max(Decimal("0.01"), (payment.claim_total * Decimal("0.004")).quantize(ZERO))
            payment.adjustments.append(ProviderAdjustment("L6", trace, -interest))
        if payment.claim_total > 50 and rng.random() < sim.config.withhold_probability:
            withhold = (payment.claim_total * Decimal("0.02")).quantize(ZERO)
            payment.adjustments.append(ProviderAdjustment("WO", f"WH{trace}", withhold))
        payments.append((payment, [row_id for row_id, _ in items]))
    out = sim.outbound(payer.payer_id, recipient)
    data = emit_835(out, [p for p, _ in payments])
    for payment, row_ids in payments:
        with sim.store.transaction() as conn:
            for row_id in row_ids:
                conn.execute(
                    "UPDATE claims SET check_number = ?, check_date = ? WHERE id = ?",
                    (payment.trace_number, payment.payment_date.isoformat(), row_id),
                )
    sim.queue_file("835", recipient, data, sim.payload_id("835"))


def file_appeal(
    sim: PayerSim, payer_claim_number: str, level: int, argument: str, enclosures: list[str]
) -> dict[str, Any] | None:
    """Record an appeal on an adjudicated claim; None when the claim is unknown."""
    rows = sim.store.query(
        "SELECT id FROM claims WHERE payer_claim_number = ? AND status = 'adjudicated' "
        "ORDER BY id DESC LIMIT 1",
        (payer_claim_number,),
    )
    if not rows:
        return None
    today = sim.today()
    due = today + timedelta(days=sim.config.appeal_delay_days)
    with sim.store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO appeals (claim_row, payer_claim_number, level, argument, enclosures, "
            "received_on, due_on, status, decision) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', '')",
            (rows[0]["id"], payer_claim_number, level, argument, json.dumps(enclosures),
             today.isoformat(), due.isoformat()),
        )  # fmt: skip
    return read_appeal(sim, cursor.lastrowid or 0)


def read_appeal(sim: PayerSim, appeal_id: int) -> dict[str, Any] | None:
    rows = sim.store.query("SELECT * FROM appeals WHERE id = ?", (appeal_id,))
    if not rows:
        return None
    row = rows[0]
    return {
        "appeal_id": row["id"],
        "payer_claim_number": row["payer_claim_number"],
        "level": row["level"],
        "status": row["status"],
        "decision": row["decision"],
        "received_on": row["received_on"],
        "decision_due": row["due_on"],
        "enclosures": json.loads(row["enclosures"] or "[]"),
    }
