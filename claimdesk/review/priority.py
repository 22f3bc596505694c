"""A task's priority: the dollars at stake per day left before its deadline, for every kind.

One scale for the whole queue, so a $3,000 denial with a week left outranks a $40
eligibility hold with a month left, whatever their kinds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# A task worth this many dollars per day left is priority 100.
_DOLLARS_PER_DAY_AT_100 = Decimal(10)
MAX_PRIORITY = 1000  # the queue sorts on it; keep it bounded


def value_priority(amount: Decimal, deadline: date, today: date) -> int:
    """Dollars at stake per day left: $10/day is 100; at or past the deadline, the maximum.

    ``priority = min(1000, round(10 × amount / max(days_left, 1)))``, so $300 with 30 days
    left is 100 and the same $300 with 3 days left is 1000.
    """
    left = (deadline - today).days
    if left <= 0:
        return MAX_PRIORITY
    value = (amount * 100 / _DOLLARS_PER_DAY_AT_100) / left
    return max(0, min(MAX_PRIORITY, int(value.to_integral_value())))
