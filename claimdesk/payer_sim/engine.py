"""The simulated payer and clearinghouse: what happens to each interchange, day by day.

``PayerSim`` answers 270s and 276s at once, takes 837s (TA1 or 999, then a
clearinghouse 277CA and a payer 277CA), adjudicates accepted claims once the
simulated clock passes their due date, and leaves 835s for pickup. Appeals are
decided after their own delay. No HTTP here: ``server.py`` is the wire.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from claimdesk.payer_sim._x12 import Outbound
from claimdesk.payer_sim.adjudicate import ClaimResult
from claimdesk.payer_sim.config import FaultConfig, PayerConfig, RosterMember, SimConfig
from claimdesk.payer_sim.emit_271 import EligibilityAnswer, emit_271
from claimdesk.payer_sim.emit_277 import StatusAnswer, emit_277
from claimdesk.payer_sim.emit_277ca import AckSource, ClaimAck, emit_277ca
from claimdesk.payer_sim.emit_999 import emit_999
from claimdesk.payer_sim.emit_ta1 import emit_ta1
from claimdesk.payer_sim.inbound import (
    EnvelopeFault,
    InClaim,
    Interchange,
    SyntaxIssue,
    check_837_syntax,
    read_837_claims,
    read_interchange,
    read_isa13,
)
from claimdesk.payer_sim.inquiries import StatusQuestion, read_270, read_276
from claimdesk.payer_sim.remit import run_due
from claimdesk.payer_sim.state import Store
from claimdesk.x12.npi import is_valid_npi

ELIGIBILITY_DENIALS = frozenset({"26", "27", "31"})
# State-file keys of the payers and fee schedule rates loaded through /admin.
_PAYERS_KEY = "admin:payers"
_FEES_KEY = "admin:fee_schedule"


class PayerSim:
    """The simulator's behaviour over its ``Store``; deterministic for a config and seed."""

    def __init__(self, config: SimConfig, store: Store) -> None:
        self.base_config = config
        self.config = config
        self.store = store
        self.initialise()

    def initialise(self) -> None:
        """Fill a new (or reset) state file: clock, roster, faults; apply admin overrides."""
        self._apply_overrides()
        if self.store.get_clock() is None:
            self.store.set_clock(self.config.clock_start or date.today())
        if self.store.get_meta("roster_loaded") is None:
            self.add_members(self.config.roster)
            self.store.set_meta("roster_loaded", "1")
        if self.store.get_json("faults") is None:
            self.store.set_json("faults", self.config.faults.model_dump())

    def reset(self) -> None:
        self.store.reset()
        self.initialise()

    # --- payers and fee schedule loaded through /admin (kept in the state file) ----------

    def _apply_overrides(self) -> None:
        base = self.base_config
        update: dict[str, Any] = {}
        stored_payers = self.store.get_json(_PAYERS_KEY) or []
        if stored_payers:
            payers = {p.payer_id: p for p in base.payers}
            for item in stored_payers:
                payer = PayerConfig.model_validate(item)
                payers[payer.payer_id] = payer
            update["payers"] = list(payers.values())
        stored_fees = self.store.get_json(_FEES_KEY) or {}
        if stored_fees:
            update["fee_schedule"] = base.fee_schedule | {
                code: Decimal(amount) for code, amount in stored_fees.items()
            }
        self.config = base.model_copy(update=update)

    def add_payers(self, payers: Sequence[PayerConfig]) -> None:
        """Add or replace payers (by payer id); they survive a restart, not a reset."""
        stored = {p["payer_id"]: p for p in self.store.get_json(_PAYERS_KEY) or []}
        stored.update({p.payer_id: p.model_dump(mode="json") for p in payers})
        self.store.set_json(_PAYERS_KEY, list(stored.values()))
        self._apply_overrides()

    def set_fees(self, fees: dict[str, Decimal]) -> None:
        """Add or replace fee schedule rates (allowed per unit, by procedure code)."""
        stored = dict(self.store.get_json(_FEES_KEY) or {})
        stored.update({code: str(amount) for code, amount in fees.items()})
        self.store.set_json(_FEES_KEY, stored)
        self._apply_overrides()

    # --- clock, roster, faults ---------------------------------------------------------

    def today(self) -> date:
        clock = self.store.get_clock()
        assert clock is not None
        return clock

    def advance(self, days: int) -> date:
        """Move the simulated clock on and run everything that fell due."""
        self.store.set_clock(self.today() + timedelta(days=days))
        self.process_due()
        return self.today()

    def faults(self) -> FaultConfig:
        return FaultConfig.model_validate(self.store.get_json("faults") or {})

    def set_faults(self, faults: FaultConfig) -> None:
        self.store.set_json("faults", faults.model_dump())

    def take_faults(self) -> FaultConfig:
        """The faults for one /core request; counts down a ``limit`` and clears it at 0."""
        with self.store.lock:
            faults = self.faults()
            if faults.limit is not None:
                left = faults.limit - 1
                self.set_faults(
                    faults.model_copy(update={"limit": left}) if left else FaultConfig()
                )
            return faults

    def rng(self, purpose: str) -> random.Random:
        """A generator seeded from the config seed, ``purpose`` and a persisted counter."""
        n = self.store.next_number(f"rng:{purpose}")
        return random.Random(f"{self.config.seed}:{purpose}:{n}")

    def add_members(self, members: Sequence[RosterMember]) -> None:
        with self.store.transaction() as conn:
            for member in members:
                conn.execute(
                    "INSERT INTO roster (member_id, data) VALUES (?, ?) ON CONFLICT(member_id) "
                    "DO UPDATE SET data = excluded.data",
                    (member.member_id, member.model_dump_json()),
                )

    def member(self, member_id: str) -> RosterMember | None:
        rows = self.store.query("SELECT data FROM roster WHERE member_id = ?", (member_id,))
        return RosterMember.model_validate_json(rows[0]["data"]) if rows else None

    def members(self) -> list[RosterMember]:
        rows = self.store.query("SELECT data FROM roster ORDER BY member_id")
        return [RosterMember.model_validate_json(r["data"]) for r in rows]

    def payer(self, payer_id: str) -> PayerConfig:
        return self.config.payer(payer_id) or self.config.payers[0]

    def outbound(self, sender_id: str, receiver_id: str) -> Outbound:
        number = self.store.next_number("isa13")
        created = datetime.combine(self.today(), time(12, 0))
        return Outbound(sender_id, receiver_id or "UNKNOWN", number, number, created)

    # --- receipts ----------------------------------------------------------------------

    def record(self, data: bytes, sender: str, payload_id: str, payload_type: str) -> int:
        """Log a raw receipt; returns its row id."""
        isa13 = read_isa13(data)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO interchanges (sender_id, isa13, payload_id, payload_type, received_at,"
                " sim_date, size, outcome, raw) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
                (sender, isa13, payload_id, payload_type, _now_text(),
                 self.today().isoformat(), len(data), data),
            )  # fmt: skip
            row_id = cursor.lastrowid
        assert row_id is not None
        return row_id

    def earlier_submission(self, sender: str, payload_id: str) -> tuple[int, bytes] | None:
        """(row id, bytes) of the first 837 received from ``sender`` under ``payload_id``."""
        rows = self.store.query(
            "SELECT id, raw FROM interchanges WHERE sender_id = ? AND payload_id = ? "
            "AND payload_type LIKE 'X12_837%' ORDER BY id LIMIT 1",
            (sender, payload_id),
        )
        return (rows[0]["id"], bytes(rows[0]["raw"])) if rows else None

    def set_outcome(self, row_id: int, outcome: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE interchanges SET outcome = ? WHERE id = ?", (outcome, row_id))

    def queue_file(self, kind: str, recipient: str, data: bytes, payload_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO files (kind, recipient, payload_id, created_at, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (kind, recipient, payload_id, self.today().isoformat(), data),
            )

    def retrieve(
        self, kind: str, recipient: str, *, keep: bool = False
    ) -> tuple[str, bytes] | None:
        """The oldest waiting ``kind`` file for ``recipient``; ``keep`` offers it again later."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT id, payload_id, data FROM files WHERE kind = ? AND recipient = ? "
                "AND picked_up = 0 ORDER BY id LIMIT 1",
                (kind, recipient),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE files SET picked_up = ?, offered = offered + 1 WHERE id = ?",
                (0 if keep else 1, row["id"]),
            )
        return row["payload_id"], bytes(row["data"])

    # --- 270 / 276 -----------------------------------------------------------------------

    def _read_or_reject(self, data: bytes, sender: str) -> tuple[Interchange | None, bytes]:
        try:
            return read_interchange(data), b""
        except EnvelopeFault as fault:
            out = self.outbound(self.config.clearinghouse_id, sender)
            now = datetime.combine(self.today(), time(12, 0))
            return None, emit_ta1(out, fault.control_number, now, fault.code)

    def answer_270(self, data: bytes, sender: str) -> tuple[str, bytes]:
        """('271' | '999' | 'TA1', the answer)."""
        interchange, ta1 = self._read_or_reject(data, sender)
        if interchange is None:
            return "TA1", ta1
        answers: list[EligibilityAnswer] = []
        payer_id, bht03 = "", ""
        for group in interchange.groups:
            for ts in group.sets:
                if ts.set_id != "270":
                    ts.issues.append(SyntaxIssue(ts.set_id[:3] or "ST", 1, "ST", "1"))
                    continue
                bht03, questions = read_270(ts)
                if not questions:
                    ts.issues.append(SyntaxIssue("HL", 2, "2000C", "3"))
                for q in questions:
                    payer_id = payer_id or q.payer_id
                    answers.append(self._eligibility(q))
        if not answers or any(not ts.accepted for g in interchange.groups for ts in g.sets):
            out = self.outbound(self.config.clearinghouse_id, interchange.sender_id)
            return "999", emit_999(out, interchange.groups)
        payer = self.payer(payer_id)
        out = self.outbound(payer.payer_id, interchange.sender_id)
        return "271", emit_271(out, payer, bht03, answers, self.today())

    def _eligibility(self, q: object) -> EligibilityAnswer:
        from claimdesk.payer_sim.inquiries import EligibilityQuestion

        assert isinstance(q, EligibilityQuestion)
        member = self.member(q.member.member_id)
        if member is None:
            return EligibilityAnswer(q, None, "75")
        if q.member.birth_date is not None and q.member.birth_date != member.birth_date:
            return EligibilityAnswer(q, member, "71")
        return EligibilityAnswer(q, member)

    def answer_276(self, data: bytes, sender: str) -> tuple[str, bytes]:
        """('277' | '999' | 'TA1', the answer)."""
        interchange, ta1 = self._read_or_reject(data, sender)
        if interchange is None:
            return "TA1", ta1
        answers: list[StatusAnswer] = []
        payer_id, bht03 = "", ""
        for group in interchange.groups:
            for ts in group.sets:
                if ts.set_id != "276":
                    ts.issues.append(SyntaxIssue(ts.set_id[:3] or "ST", 1, "ST", "1"))
                    continue
                bht03, questions = read_276(ts)
                if not questions:
                    ts.issues.append(SyntaxIssue("TRN", 2, "2200D", "3"))
                for q in questions:
                    payer_id = payer_id or q.payer_id
                    answers.append(self._status(q))
        if not answers or any(not ts.accepted for g in interchange.groups for ts in g.sets):
            out = self.outbound(self.config.clearinghouse_id, interchange.sender_id)
            return "999", emit_999(out, interchange.groups)
        payer = self.payer(payer_id)
        out = self.outbound(payer.payer_id, interchange.sender_id)
        return "277", emit_277(out, payer, bht03, answers, self.today())

    def _status(self, q: StatusQuestion) -> StatusAnswer:
        rows = []
        if q.payer_claim_number:
            rows = self.store.query(
                "SELECT * FROM claims WHERE payer_claim_number = ? ORDER BY id DESC",
                (q.payer_claim_number,),
            )
        if not rows and q.trace_number:
            rows = self.store.query(
                "SELECT * FROM claims WHERE claim_ref = ? ORDER BY id DESC", (q.trace_number,)
            )
        if not rows and q.patient_control_number:
            rows = self.store.query(
                "SELECT * FROM claims WHERE pcn = ? AND member_id = ? ORDER BY id DESC",
                (q.patient_control_number, q.member.member_id),
            )
        charge = q.total_charge or 0
        if not rows:
            return StatusAnswer(q, ("A4", "35"), Decimal(charge))
        row = rows[0]
        claim = InClaim.model_validate_json(row["claim"])
        common: dict[str, Any] = {
            "charge": claim.total_charge,
            "payer_claim_number": row["payer_claim_number"] or "",
            "patient_control_number": claim.patient_control_number,
            "service_from": claim.first_service_date,
            "service_through": claim.last_service_date,
        }
        if row["status"] == "rejected":
            return StatusAnswer(q, ("A3", "21"), **common)
        if row["status"] == "accepted" or not row["result"]:
            return StatusAnswer(q, ("A2", "20"), **common)
        result = ClaimResult.model_validate_json(row["result"])
        if row["status"] in ("reversed", "voided"):
            code = ("F2", "107")
        elif result.status == "4":
            code = ("F2", "88" if set(result.denials) & ELIGIBILITY_DENIALS else "107")
        elif result.paid > 0:
            code = ("F1", "65")
        else:
            code = ("F4", "107")
        return StatusAnswer(
            q, code, paid=result.paid,
            adjudicated_on=date.fromisoformat(row["adjudicated_on"]),
            check_number=row["check_number"] or "",
            check_date=date.fromisoformat(row["check_date"]) if row["check_date"] else None,
            **common,
        )  # fmt: skip

    # --- 837 -----------------------------------------------------------------------------

    def submit_837(self, data: bytes, sender: str, receipt: int) -> str:
        """Check and take one 837 interchange; queue TA1 or 999 (+ 277CAs). Returns the outcome."""
        interchange, ta1 = self._read_or_reject(data, sender)
        if interchange is None:
            self.queue_file("TA1", sender, ta1, self.payload_id("TA1"))
            return "TA1 rejected"
        earlier = self.store.query(
            "SELECT id FROM interchanges WHERE sender_id = ? AND isa13 = ? AND id < ? AND "
            "outcome NOT LIKE 'TA1%'",
            (sender, interchange.control_number, receipt),
        )
        if earlier:
            out = self.outbound(self.config.clearinghouse_id, interchange.sender_id)
            now = datetime.combine(self.today(), time(12, 0))
            self.queue_file("TA1", sender, emit_ta1(out, interchange.control_number, now, "025"),
                            self.payload_id("TA1"))  # fmt: skip
            return "TA1 025 duplicate"
        claims: list[InClaim] = []
        for group in interchange.groups:
            for ts in group.sets:
                if ts.set_id != "837":
                    ts.issues.append(SyntaxIssue(ts.set_id[:3] or "ST", 1, "ST", "1"))
                    continue
                check_837_syntax(ts)
                if ts.accepted:
                    claims += read_837_claims(ts, interchange.component)
        out = self.outbound(self.config.clearinghouse_id, interchange.sender_id)
        self.queue_file("999", sender, emit_999(out, interchange.groups), self.payload_id("999"))
        if claims:
            self._acknowledge(claims, interchange, sender, receipt)
        return f"999 {len(claims)} claims"

    def _acknowledge(
        self, claims: list[InClaim], interchange: Interchange, sender: str, receipt: int
    ) -> None:
        today = self.today()
        due = today + timedelta(days=self.config.adjudication_delay_days)
        house: list[ClaimAck] = []
        payer_acks: dict[str, list[ClaimAck]] = {}
        with self.store.transaction() as conn:
            for claim in claims:
                status = self._front_end_edit(claim)
                number = ""
                if status is None:
                    number = f"{today:%y%j}{self.store.next_number('claim'):07d}"
                    status = ("A1", "19")
                    payer_acks.setdefault(claim.payer_id, []).append(
                        ClaimAck(claim, ("A2", "20"), number)
                    )
                house.append(ClaimAck(claim, status))
                from claimdesk.payer_sim.adjudicate import duplicate_key

                conn.execute(
                    "INSERT INTO claims (claim_ref, pcn, member_id, payer_id, interchange_id, "
                    "recipient, payer_claim_number, status, received_on, due_on, frequency, "
                    "original_ref, dup_key, claim, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (claim.claim_ref, claim.patient_control_number, claim.subscriber.member_id,
                     claim.payer_id, receipt, sender, number,
                     "accepted" if number else "rejected", today.isoformat(), due.isoformat(),
                     claim.frequency, claim.original_ref, duplicate_key(claim),
                     claim.model_dump_json(), ":".join(status)),
                )  # fmt: skip
        trace = f"{interchange.control_number}"
        source = AckSource(
            self.config.clearinghouse_name, self.config.clearinghouse_id, "SUBMITTER",
            interchange.sender_id, interchange.control_number,
        )  # fmt: skip
        out = self.outbound(self.config.clearinghouse_id, interchange.sender_id)
        self.queue_file("277CA", sender, emit_277ca(out, source, house, today, f"CH{trace}"),
                        self.payload_id("277CA"))  # fmt: skip
        for payer_id, acks in payer_acks.items():
            payer = self.payer(payer_id)
            source = AckSource(payer.name, payer.payer_id, "SUBMITTER", interchange.sender_id,
                               interchange.control_number)  # fmt: skip
            out = self.outbound(payer.payer_id, interchange.sender_id)
            self.queue_file("277CA", sender, emit_277ca(out, source, acks, today, f"PY{trace}"),
                            self.payload_id("277CA"))  # fmt: skip

    def _front_end_edit(self, claim: InClaim) -> tuple[str, ...] | None:
        """The rejection STC of a claim that cannot enter adjudication, or None."""
        if not is_valid_npi(claim.billing_npi):
            return ("A7", "562", "85")
        if claim.rendering_npi and not is_valid_npi(claim.rendering_npi):
            return ("A7", "562", "82")
        if self.member(claim.subscriber.member_id) is None:
            return ("A3", "33", "IL")
        if not claim.lines or claim.first_service_date is None:
            return ("A3", "21")
        return None

    def process_due(self) -> None:
        run_due(self)

    def payload_id(self, kind: str) -> str:
        """A UUID-shaped PayloadID, deterministic for the seed and the file's sequence number."""
        n = self.store.next_number("payload")
        seeded = random.Random(f"{self.config.seed}:{kind}:{n}")
        return str(uuid.UUID(int=seeded.getrandbits(128), version=4))


def _now_text() -> str:
    return datetime.now().isoformat(timespec="milliseconds")
