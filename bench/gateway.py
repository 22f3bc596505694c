"""Gateway benchmark: the CORE client against the payer simulator process, over loopback.

Run: ``uv run python bench/gateway.py`` (``--quick`` for a smaller run). It starts
the simulator subprocess, then times, through ``CoreClient`` (breaker, token
bucket, document storage in a temporary SQLite database and folder included):

- real-time round trips, one at a time: 270→271 and 276→277;
- 837 batch submission: ``--batches`` interchanges of ``--claims`` claims each,
  then the pickup of their 999s and 277CAs.

Beside each figure is the simulator's own handling time (``GET /admin/stats``,
the mean of its ``X-Sim-Handling-Ms``), so the client and network share shows.
The last line is machine-readable:
``gateway rt_per_s=<n> batch_claims_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from claimdesk.db import make_engine
from claimdesk.documents import LocalDocumentStore
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.settings import Settings
from claimdesk.x12 import write_270, write_276, write_837
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer round trips and claims")
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--claims", type=int, default=500)
    args = parser.parse_args()
    trips, batches, per_batch = args.round_trips, args.batches, args.claims
    if args.quick:
        trips, batches, per_batch = 50, 2, 100

    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        root = Path(tmp)
        settings = Settings(_env_file=None, data_dir=root)
        engine = make_engine(settings)
        upgrade_database(engine)
        url, process = start_payer_sim(root, seed=1, config={
            "clock_start": CLOCK_START.isoformat(), "adjudication_delay_days": 2,
        })  # fmt: skip
        config = PayerConfig(
            payer_id="SIMPAYER", endpoint=f"{url}/core", sender_id="CLAIMDESK",
            receiver_id="SIMPAYER", rate_limit_per_s=1_000_000.0, max_retries=0,
        )  # fmt: skip
        client = CoreClient(settings, config, engine=engine, store=LocalDocumentStore(root / "d"))
        try:
            run(client, url, trips, batches, per_batch)
        finally:
            client.close()
            stop_payer_sim(process)
            engine.dispose()


def run(client: CoreClient, url: str, trips: int, batches: int, per_batch: int) -> None:
    stats = SimStats(url)
    claims = [make_claim(n) for n in range(batches * per_batch)]
    files = [
        make_837(claims[b * per_batch : (b + 1) * per_batch], control=10_000 + b)
        for b in range(batches)
    ]
    client.eligibility(make_270(1))  # warm up: connection, imports, first DB rows
    stats.mean_ms_since()

    started = time.perf_counter()
    for n in range(trips):
        client.eligibility(make_270(100 + n))
    elapsed_270 = time.perf_counter() - started
    sim_270 = stats.mean_ms_since()
    print(f"270->271: {trips / elapsed_270:8.1f} round trips/s "
          f"({elapsed_270 / trips * 1000:.2f} ms each; simulator {sim_270:.2f} ms)")  # fmt: skip

    started = time.perf_counter()
    for b, data in enumerate(files):
        client.submit(data, payload_id=str(uuid.uuid4()))
        if b == 0:
            first_batch_s = time.perf_counter() - started
    elapsed_837 = time.perf_counter() - started
    sim_837 = stats.mean_ms_since()
    total_claims = batches * per_batch
    print(f"837 submit: {total_claims / elapsed_837:8.1f} claims/s ({batches} batches of "
          f"{per_batch}; {elapsed_837 / batches * 1000:.0f} ms a batch, first "
          f"{first_batch_s * 1000:.0f} ms; simulator {sim_837:.1f} ms a batch)")  # fmt: skip

    started = time.perf_counter()
    acks = client.retrieve("999") + client.retrieve("277CA")
    elapsed_ack = time.perf_counter() - started
    sim_ack = stats.mean_ms_since()
    print(f"999+277CA pickup: {len(acks)} files in {elapsed_ack * 1000:.0f} ms "
          f"(simulator {sim_ack:.1f} ms a request)")  # fmt: skip

    started = time.perf_counter()
    for n in range(trips):
        client.status(make_276(claims[n % len(claims)], 5_000 + n))
    elapsed_276 = time.perf_counter() - started
    sim_276 = stats.mean_ms_since()
    print(f"276->277: {trips / elapsed_276:8.1f} round trips/s "
          f"({elapsed_276 / trips * 1000:.2f} ms each; simulator {sim_276:.2f} ms)")  # fmt: skip

    httpx.post(f"{url}/admin/clock/advance", json={"days": 2}, timeout=600)
    started = time.perf_counter()
    remits = client.retrieve("835")
    elapsed_835 = time.perf_counter() - started
    print(f"835 pickup: {len(remits)} files, {sum(len(r.payload) for r in remits)} bytes "
          f"in {elapsed_835 * 1000:.0f} ms")  # fmt: skip

    rt_per_s = 2 * trips / (elapsed_270 + elapsed_276)
    print(f"gateway rt_per_s={rt_per_s:.1f} batch_claims_per_s={total_claims / elapsed_837:.1f}")


if __name__ == "__main__":
    main()
