"""An 835 file's sets for posting, claim by claim, so memory does not grow with the claims.

Posting must decide a whole set before it posts any of it (a set seen before, a trace
number seen with other content, or an unbalanced set posts nothing), and the content
hash and the balance are only known at the set's end. So the file is read twice, each
time streaming: ``check_sets`` reads every set to its end (SE count, balance, the
hash) and keeps a small summary per set; ``claim_streams`` reads it again and hands
each set's claims one at a time to the poster. Reading costs a few percent of posting.

``ContentDigest`` hashes a set as it streams; it gives exactly ``content_hash`` of the
whole model (the JSON of the set without its control number), so sets posted before
this reader streamed are still recognised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claimdesk.x12 import (
    ClaimPayment,
    Remittance835,
    RemittanceEnd,
    RemittanceStart,
    SegmentReader,
    remittance_from_stream,
    stream_transactions,
)
from claimdesk.x12.models import BalanceError, Payment, ProviderAdjustment

_CLAIMS_KEY = '"claims":['
# The JSON of the set's fields after its claims when they are not yet known.
_NO_END = RemittanceEnd(
    claim_count=0, paid=Decimal(0), provider_adjustments=(), balanced=True, balance_errors=()
)


def content_hash(remittance: Remittance835) -> str:
    """The set's content, without its envelope control number: a re-wrapped resend matches."""
    text = remittance.model_dump_json(exclude={"control_number"})
    return hashlib.sha256(text.encode()).hexdigest()


def _split_json(start: RemittanceStart, end: RemittanceEnd) -> tuple[str, str]:
    """(the JSON before the claims' first element, the JSON after their last) of the set."""
    text = remittance_from_stream(start, (), end).model_dump_json(exclude={"control_number"})
    # The key cannot occur inside a JSON string (its quotes would be escaped): split at it.
    head, key, tail = text.rpartition(_CLAIMS_KEY)
    assert key and tail.startswith("]"), "a set's JSON lists its claims"
    return head + key, tail


class ContentDigest:
    """``content_hash`` of a set fed as its start, each claim, then its end."""

    def __init__(self, start: RemittanceStart) -> None:
        self._start = start
        self._hash = hashlib.sha256(_split_json(start, _NO_END)[0].encode())
        self._separator = b""

    def add(self, claim: ClaimPayment) -> None:
        self._hash.update(self._separator)
        self._hash.update(claim.model_dump_json().encode())
        self._separator = b","

    def finish(self, end: RemittanceEnd) -> str:
        self._hash.update(_split_json(self._start, end)[1].encode())
        return self._hash.hexdigest()


@dataclass(frozen=True)
class CheckedSet:
    """What posting decides a set on, read to its end before any of it posts."""

    digest: str
    payment: Payment
    production_date: date | None
    provider_adjustments: tuple[ProviderAdjustment, ...]
    balanced: bool
    balance_errors: tuple[BalanceError, ...]
    claim_count: int


def _checked(digest: str, start: RemittanceStart, end: RemittanceEnd) -> CheckedSet:
    return CheckedSet(
        digest=digest,
        payment=start.payment,
        production_date=start.production_date,
        provider_adjustments=end.provider_adjustments,
        balanced=end.balanced,
        balance_errors=end.balance_errors,
        claim_count=end.claim_count,
    )


def check_sets(data: bytes) -> list[CheckedSet]:
    """Every 835 set of ``data``, read through and summarised (``X12Error`` if unreadable)."""
    checked: list[CheckedSet] = []
    start: RemittanceStart | None = None
    digest: ContentDigest | None = None
    for item in stream_transactions(data):
        if isinstance(item, ClaimPayment):
            assert digest is not None
            digest.add(item)
        elif isinstance(item, RemittanceStart):
            start, digest = item, ContentDigest(item)
        elif isinstance(item, RemittanceEnd):
            assert start is not None and digest is not None
            checked.append(_checked(digest.finish(item), start, item))
            start = digest = None
    return checked


def check_models(sets: Iterable[Remittance835]) -> list[CheckedSet]:
    """The same summaries for sets already read whole (a paper EOB's, a caller's)."""
    return [
        CheckedSet(
            digest=content_hash(remittance),
            payment=remittance.payment,
            production_date=remittance.production_date,
            provider_adjustments=remittance.provider_adjustments,
            balanced=remittance.balanced,
            balance_errors=remittance.balance_errors,
            claim_count=len(remittance.claims),
        )
        for remittance in sets
    ]


def claim_streams(data: bytes) -> Iterator[Iterator[ClaimPayment]]:
    """Each 835 set's claims, one iterator per set, in file order, read as they are used.

    A set's iterator is only good until the next one is taken; one left unread (a set
    that posts nothing) is skipped over.
    """
    items = stream_transactions(data)
    for item in items:
        if isinstance(item, RemittanceStart):
            yield _claims_until_end(items)


def _claims_until_end(items: Iterator[object]) -> Iterator[ClaimPayment]:
    for item in items:
        if isinstance(item, RemittanceEnd):
            return
        assert isinstance(item, ClaimPayment)
        yield item


def crossover_carriers(data: bytes) -> dict[str, str]:
    """CLP01 → NM1*TT NM109 for claims the payer says it forwarded (the reader skips NM1*TT)."""
    found: dict[str, str] = {}
    current = ""
    for _, elements in SegmentReader(data):
        if elements[0] == "CLP":
            current = elements[1] if len(elements) > 1 else ""
        elif elements[0] == "NM1" and len(elements) > 1 and elements[1] == "TT" and current:
            found[current] = elements[9] if len(elements) > 9 else ""
    return found
