"""Paper claims: the CMS-1500 (02/12) and UB-04 (CMS-1450) forms (pure: facts in, PDF out)."""

from claimdesk.paper.cms1500 import render_cms1500
from claimdesk.paper.cms1500_facts import (
    Cms1500Facts,
    FormAddress,
    FormLine,
    OtherInsured,
    ProviderBlock,
    facts_from_claim,
)
from claimdesk.paper.ub04 import render_ub04
from claimdesk.paper.ub04_facts import (
    Ub04Facts,
    Ub04Names,
    Ub04Party,
    ub04_facts_from_claim,
)

__all__ = [
    "Cms1500Facts",
    "FormAddress",
    "FormLine",
    "OtherInsured",
    "ProviderBlock",
    "Ub04Facts",
    "Ub04Names",
    "Ub04Party",
    "facts_from_claim",
    "render_cms1500",
    "render_ub04",
    "ub04_facts_from_claim",
]
