"""Many real-time inquiries to one payer at once, bounded by its ``max_concurrency``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from claimdesk.gateway.errors import PayerError

__all__ = ["fan_out"]

T = TypeVar("T")
R = TypeVar("R")


def fan_out(
    call: Callable[[T], R], items: Sequence[T], *, max_concurrency: int
) -> list[R | PayerError]:
    """Run ``call`` over ``items`` with at most ``max_concurrency`` at once, keeping order.

    Each item's ``PayerError`` is returned in its place instead of stopping the
    others, so one bad inquiry never sinks the batch; other exceptions propagate.
    """

    def one(item: T) -> R | PayerError:
        try:
            return call(item)
        except PayerError as exc:
            return exc

    if max_concurrency <= 1 or len(items) <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_concurrency, len(items))) as pool:
        return list(pool.map(one, items))
