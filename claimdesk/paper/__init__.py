"""Paper claims: the CMS-1500 (02/12) form, filled from a claim (pure: facts in, PDF out)."""

from claimdesk.paper.cms1500 import render_cms1500
from claimdesk.paper.cms1500_facts import (
    Cms1500Facts,
    FormAddress,
    FormLine,
    OtherInsured,
    ProviderBlock,
    facts_from_claim,
)

__all__ = [
    "Cms1500Facts",
    "FormAddress",
    "FormLine",
    "OtherInsured",
    "ProviderBlock",
    "facts_from_claim",
    "render_cms1500",
]
