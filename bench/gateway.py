"""Gateway benchmark: the CORE client against the payer simulator process, over loopback.

Run: ``uv run python -m bench.gateway`` (``--quick`` for a smaller run). It starts
the simulator subprocess (an HTTP server), then, through ``CoreClient`` (breaker,
token bucket, document storage in a temporary SQLite database and folder included):

- **real time**, 270->271 and 276->277 alternating, one at a time, with the
  payer's default rate limit (``PayerConfig.rate_limit_per_s``, 10/s): the
  achieved rate, measured from the HTTP requests' send times after the bucket's
  burst is spent. Baseline: the same calls with the limit lifted (the client's
  and simulator's capacity on this machine), so the line says what bounds it;
- **batch**: 837 interchanges submitted at the default limit, their 999s and
  277CAs picked up, the clock advanced and the 835s picked up.

Checked: every answer read (one 271 per 270, one 277 naming its claim per 276);
the sends never beat the bucket (in any window, at most burst + rate x window);
every batch accepted in a 999; every claim in a 277CA, accepted; every claim
once in the 835s. The bucket check allows one call of slack (a send leaves after
its token's commit, so a stalled commit bunches the next sends). Target: achieved
>= 90% of what bounds it (the limit when the capacity is above it, else the capacity).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from bench._common import Bench, seconds
from claimdesk.db import make_engine
from claimdesk.documents import LocalDocumentStore
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.settings import Settings
from claimdesk.x12 import (
    Ack999,
    ClaimStatus277,
    Eligibility271,
    Remittance835,
    read_interchanges,
    write_270,
    write_276,
    write_837,
)
from claimdesk.x12.claim_data import (
    Address,
    BillingProvider,
    Claim837,
    ClaimBatch837,
    ControlNumbers,
    EligibilityBatch270,
    EligibilityInquiry,
    EnvelopeParties,
    PayerRef,
    PersonName,
    Provider,
    Receiver,
    ServiceLine,
    StatusBatch276,
    StatusInquiry,
    Submitter,
    Subscriber,
)
from claimdesk.x12.npi import npi_check_digit

CLOCK_START = date(2025, 3, 10)
SERVICE_DATE = date(2025, 3, 3)
CREATED = datetime(2025, 3, 10, 9, 0)
# Members of the simulator's default roster (payer SIMPAYER).
MEMBERS = [
    Subscriber(last_name="DOE", first_name="JANE", member_id="M1001",
               birth_date=date(1980, 4, 12), gender="F"),
    Subscriber(last_name="SMITH", first_name="JOHN", member_id="M1002",
               birth_date=date(1975, 9, 30), gender="M"),
]  # fmt: skip
PAYER = PayerRef(name="SIM HEALTH PLAN", payer_id="SIMPAYER")
ENVELOPE = EnvelopeParties(
    sender_id="CLAIMDESK", receiver_id="SIMCH",
    application_sender_code="CLAIMDESK", application_receiver_code="SIMCH",
)  # fmt: skip


def _npi(n: int) -> str:
    prefix = f"{100000000 + n:09d}"
    return prefix + str(npi_check_digit(prefix))


BILLING = BillingProvider(
    entity_type="2", last_name="BENCH CLINIC", npi=_npi(1), tax_id="567891234",
    address=Address(line1="1 MAIN ST", city="CENTERVILLE", state="PA", postal_code="171111234"),
)  # fmt: skip
DOCTOR = Provider(last_name="KILDARE", first_name="BEN", npi=_npi(2))


def _controls(n: int) -> ControlNumbers:
    return ControlNumbers(interchange=n, group=n, transaction_set=1)


def make_claim(n: int) -> Claim837:
    codes = ("99213", "36415") if n % 3 else ("99214",)
    lines = tuple(
        ServiceLine(line_number=i, procedure_code=code, charge=Decimal("150.00"),
                    units=Decimal(1), place_of_service="11", diagnosis_pointers=(1,),
                    service_date=SERVICE_DATE, line_item_control_number=f"B{n}L{i}")
        for i, code in enumerate(codes, start=1)
    )  # fmt: skip
    return Claim837(
        billing_provider=BILLING, subscriber=MEMBERS[n % 2], payer=PAYER,
        patient_control_number=f"BENCH{n}", total_charge=sum(line.charge for line in lines),
        facility_code="11", frequency_code="1", claim_id=f"BENCH{n}", claim_version=1,
        diagnoses=("J020",), rendering_provider=DOCTOR, lines=lines,
    )  # fmt: skip


def make_837(claims: list[Claim837], control: int) -> bytes:
    submitter = Submitter(
        name=PersonName(entity_type="2", last_name="BENCH CLINIC"),
        identifier="CLAIMDESK",
        contact_name="JANE ROE",
        phone="8005551234",
    )
    return write_837(ClaimBatch837(
        envelope=ENVELOPE, control=_controls(control), created_at=CREATED,
        reference_id=f"B{control}", kind="P", submitter=submitter,
        receiver=Receiver(name="SIM CLEARINGHOUSE", identifier="SIMCH"), claims=tuple(claims),
    ))  # fmt: skip


def make_270(n: int) -> bytes:
    return write_270(EligibilityBatch270(
        envelope=ENVELOPE, control=_controls(n), created_at=CREATED, reference_id=f"E{n}",
        inquiries=(EligibilityInquiry(
            information_source=PAYER, information_receiver=DOCTOR, subscriber=MEMBERS[n % 2],
            trace_number=f"T{n}", trace_originator="9877281234", service_date=CLOCK_START,
        ),),
    ))  # fmt: skip


def make_276(claim: Claim837, n: int) -> bytes:
    return write_276(StatusBatch276(
        envelope=ENVELOPE, control=_controls(n), created_at=CREATED, reference_id=f"S{n}",
        inquiries=(StatusInquiry(
            information_source=PAYER,
            information_receiver=Receiver(name="BENCH CLINIC", identifier="CLAIMDESK"),
            service_provider=DOCTOR, subscriber=claim.subscriber,
            trace_number=claim.wire_claim_reference,
            patient_control_number=claim.patient_control_number,
            total_charge=claim.total_charge, service_from=SERVICE_DATE,
        ),),
    ))  # fmt: skip


class SimStats:
    """Deltas of the simulator's request count and handling time between two reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests, self.total_ms = self._read()

    def _read(self) -> tuple[int, float]:
        stats = httpx.get(f"{self.url}/admin/stats", timeout=10).json()
        return int(stats["requests"]), float(stats["mean_handling_ms"]) * int(stats["requests"])

    def mean_ms_since(self) -> float:
        requests, total_ms = self._read()
        count = requests - self.requests
        self.requests, self.total_ms, mean = (
            requests,
            total_ms,
            ((total_ms - self.total_ms) / count if count else 0.0),
        )
        return mean


class SendTimes(httpx.HTTPTransport):
    """The transport the client is given: records when each request leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(time.perf_counter())
        return super().handle_request(request)


def sets(data: bytes) -> list[object]:
    return [t for i in read_interchanges(data) for g in i.groups for t in g.transactions]


def bucket_excess(sent: list[float], rate: float, burst: float) -> tuple[float, float]:
    """(most calls beyond ``burst + rate x window`` in any window of sends, that window in s).

    The bucket reserves a slot when the call takes its token; the request leaves after
    that transaction commits, so a stalled commit bunches the sends that follow it.
    """
    worst, window = 0.0, 0.0
    for i in range(len(sent)):
        for j in range(i + 1, len(sent)):
            excess = j - i + 1 - burst - rate * (sent[j] - sent[i])
            if excess > worst:
                worst, window = excess, sent[j] - sent[i]
    return worst, window


def make_client(
    root: Path, url: str, name: str, rate: float | None
) -> tuple[CoreClient, SendTimes]:
    """A client with its own database (its own bucket row); ``rate`` None: the default."""
    folder = root / name
    settings = Settings(_env_file=None, data_dir=folder)
    engine = make_engine(settings)
    upgrade_database(engine)
    limits = {} if rate is None else {"rate_limit_per_s": rate}
    config = PayerConfig(
        payer_id="SIMPAYER", endpoint=f"{url}/core", sender_id="CLAIMDESK",
        receiver_id="SIMPAYER", max_retries=0, **limits,
    )  # fmt: skip
    transport = SendTimes()
    client = CoreClient(
        settings, config, engine=engine, store=LocalDocumentStore(folder / "d"), transport=transport
    )
    return client, transport


def real_time(
    bench: Bench, client: CoreClient, transport: SendTimes, trips: int, claims: list[Claim837]
) -> tuple[float, float]:
    """``trips`` calls (270 and 276 in turn) after the bucket's burst; (calls/s, seconds)."""
    rate = client.config.rate_limit_per_s
    burst = max(1.0, rate)  # circuit.take_token's default capacity
    # Warm-up: connection, first rows, and (when the limit is real) the burst spent.
    for n in range(int(burst) + 1 if burst <= 100 else 2):
        client.eligibility(make_270(90_000 + n))
    first = len(transport.sent)
    answered_271 = answered_277 = 0
    for n in range(trips):
        if n % 2 == 0:
            answer = sets(client.eligibility(make_270(100 + n)))
            answered_271 += len(answer) == 1 and isinstance(answer[0], Eligibility271)
        else:
            claim = claims[n % len(claims)]
            answer = sets(client.status(make_276(claim, 5_000 + n)))
            answered_277 += (
                len(answer) == 1
                and isinstance(answer[0], ClaimStatus277)
                # The 276 carries the claim's wire reference as its patient control number.
                and [c.patient_control_number for c in answer[0].claims]
                == [claim.wire_claim_reference]
            )
    sent = transport.sent[first:]
    label = f"limit {rate:g}/s" if rate < 1e5 else "unthrottled"
    bench.check(answered_271 == (trips + 1) // 2, f"{label}: {answered_271} 271s read")
    bench.check(answered_277 == trips // 2, f"{label}: {answered_277} 277s naming their claim")
    excess, window = bucket_excess(transport.sent, rate, burst)
    if rate < 1e5:
        bench.info(
            f"{label}: at most {excess:.2f} calls beyond burst {burst:g} + {rate:g}/s x window "
            f"(in {window:.1f} s of sends)"
        )
    # One call of slack: the send lags its reservation by the token row's commit.
    bench.check(
        excess <= 1.0,
        f"{label}: sends stayed within the bucket (burst {burst:g}, {rate:g}/s, one call "
        f"of slack): {excess:.2f} calls beyond it in {window:.1f} s",
    )
    achieved = (len(sent) - 1) / (sent[-1] - sent[0])
    return achieved, sent[-1] - sent[0]


def batches(
    bench: Bench, client: CoreClient, url: str, stats: SimStats, claims: list[Claim837], size: int
) -> float:
    """Submit ``claims`` in interchanges of ``size``; pick up 999, 277CA and 835. Claims/s."""
    files = [
        make_837(claims[b : b + size], control=10_000 + b // size)
        for b in range(0, len(claims), size)
    ]
    started = time.perf_counter()
    for data in files:
        client.submit(data, payload_id=str(uuid.uuid4()))
    submit_s = time.perf_counter() - started
    sim_ms = stats.mean_ms_since()
    started = time.perf_counter()
    acks = [t for f in client.retrieve("999") for t in sets(f.payload)]
    statuses = [t for f in client.retrieve("277CA") for t in sets(f.payload)]
    ack_s = time.perf_counter() - started
    bench.info(
        f"837 submit: {len(claims):,} claims in {len(files)} interchanges, {seconds(submit_s)} "
        f"({len(claims) / submit_s:,.0f} claims/s; simulator {sim_ms:.0f} ms a batch); "
        f"999 + 277CA pickup {seconds(ack_s)}"
    )
    accepted = [a for a in acks if isinstance(a, Ack999) and a.group_status == "A"]
    bench.check(len(accepted) == len(files), f"{len(accepted)} of {len(files)} batches accepted")
    # Two senders acknowledge each claim: the clearinghouse (A1) and the payer (A2).
    acknowledged = Counter(
        (c.patient_control_number, c.statuses[0].codes[0].category)
        for t in statuses
        if isinstance(t, ClaimStatus277)
        for c in t.claims
        if c.accepted and c.statuses and c.statuses[0].codes
    )
    expected = {(c.patient_control_number, cat) for c in claims for cat in ("A1", "A2")}
    bench.check(
        set(acknowledged) == expected and set(acknowledged.values()) == {1},
        f"every claim accepted once by the clearinghouse and once by the payer in 277CAs "
        f"({sum(acknowledged.values())} acceptances for {len(claims)} claims)",
    )
    httpx.post(f"{url}/admin/clock/advance", json={"days": 2}, timeout=600)
    started = time.perf_counter()
    remits = client.retrieve("835")
    paid = Counter(
        c.patient_control_number
        for f in remits
        for t in sets(f.payload)
        if isinstance(t, Remittance835)
        for c in t.claims
    )
    bench.info(
        f"835 pickup: {len(remits)} files, {sum(len(r.payload) for r in remits):,} bytes, "
        f"{sum(paid.values()):,} claims, {seconds(time.perf_counter() - started)}"
    )
    bench.check(
        set(paid) == {c.patient_control_number for c in claims} and set(paid.values()) == {1},
        f"every claim once in the 835s ({len(paid)} claims, {sum(paid.values())} payments)",
    )
    return len(claims) / submit_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer round trips and claims")
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--claims", type=int, default=500, help="claims an interchange")
    args = parser.parse_args()
    trips, count, per_batch = args.round_trips, args.batches, args.claims
    if args.quick:
        trips, count, per_batch = 40, 2, 100
    bench = Bench("gateway")
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        root = Path(tmp)
        url, process = start_payer_sim(root, seed=1, config={
            "clock_start": CLOCK_START.isoformat(), "adjudication_delay_days": 2,
        })  # fmt: skip
        ours, ours_sent = make_client(root, url, "default", None)
        lifted, lifted_sent = make_client(root, url, "lifted", 1e9)
        try:
            claims = [make_claim(n) for n in range(count * per_batch)]
            stats = SimStats(url)
            cpu = time.process_time()
            capacity, wall = real_time(bench, lifted, lifted_sent, trips, claims)
            cpu_share = (time.process_time() - cpu) / wall
            sim_ms = stats.mean_ms_since()
            achieved, _ = real_time(bench, ours, ours_sent, trips, claims)
            limit = ours.config.rate_limit_per_s
            bench.info(
                f"real time: {achieved:.2f} calls/s at the default limit {limit:g}/s; "
                f"{capacity:.1f} calls/s unthrottled ({1000 / capacity:.1f} ms a call: "
                f"simulator {sim_ms:.1f} ms, this process on CPU {cpu_share:.0%} of the time, "
                f"the rest waiting: fsync of stored documents, the simulator); {trips} calls each"
            )
            batches(bench, ours, url, stats, claims, per_batch)
        finally:
            for client in (ours, lifted):
                client.close()
                client.engine.dispose()
            stop_payer_sim(process)
    bound, bound_name = (
        (limit, "rate limit") if capacity > limit else (capacity, "client's work per call")
    )
    bench.result(
        "gateway-real-time",
        ours=f"{achieved:.2f} calls/s at the default limit {limit:g}/s",
        baseline=f"unthrottled {capacity:.1f} calls/s (bound: {bound_name})",
        ratio=achieved / bound,
        ratio_of="achieved/bound",
        target=f">= 0.9x the {bound_name}",
        ok=achieved >= 0.9 * bound,
    )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
