"""Hand-written 835s for the posting tests: each builder returns segments ending in ``~``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       "
    "*261102*1200*^*00501*000000001*0*T*:~"
)


def _cas(group: str, items: tuple[tuple[str, str], ...]) -> str:
    return (
        "CAS*"
        + group
        + "".join(f"*{reason}*{amount}*" for reason, amount in items).rstrip("*")
        + "~"
    )


@dataclass
class Svc:
    code: str
    charge: str
    paid: str
    cas: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    ref: str | None = None
    allowed: str | None = None
    units: str = "1"
    remarks: tuple[str, ...] = ()

    def text(self) -> str:
        out = f"SVC*HC:{self.code}*{self.charge}*{self.paid}**{self.units}~DTM*472*20261001~"
        out += "".join(_cas(g, items) for g, items in self.cas.items())
        if self.ref:
            out += f"REF*6R*{self.ref}~"
        if self.allowed:
            out += f"AMT*B6*{self.allowed}~"
        out += "".join(f"LQ*HE*{r}~" for r in self.remarks)
        return out


@dataclass
class Clp:
    pcn: str
    status: str
    charge: str
    paid: str
    patient: str = "0"
    services: tuple[Svc, ...] = ()
    cas: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    payer_claim: str = "PCLM1"
    moa: tuple[str, ...] = ()
    crossover_to: str | None = None

    def text(self) -> str:
        amounts = f"{self.charge}*{self.paid}*{self.patient}"
        out = f"CLP*{self.pcn}*{self.status}*{amounts}*12*{self.payer_claim}~"
        out += "".join(_cas(g, items) for g, items in self.cas.items())
        out += "NM1*QC*1*DOE*JANE****MI*M123~"
        if self.crossover_to:
            out += f"NM1*TT*2*MEDIGAP PLAN*****PI*{self.crossover_to}~"
        if self.moa:
            out += "MOA***" + "*".join(self.moa) + "~"
        out += "DTM*050*20261005~"
        return out + "".join(s.text() for s in self.services)


def remit(
    claims: list[Clp],
    *,
    trace: str = "EFT1001",
    total: str | None = None,
    plb: tuple[tuple[str, str, str], ...] = (),
    pay_date: str = "20261102",
    control: str = "0001",
) -> bytes:
    """A whole interchange; BPR02 = Σ CLP04 − Σ PLB unless ``total`` forces a value."""
    if total is None:
        amount = sum((Decimal(c.paid) for c in claims), Decimal(0)) - sum(
            (Decimal(a) for _, _, a in plb), Decimal(0)
        )
        total = f"{amount:.2f}"
    body = (
        f"BPR*I*{total}*C*ACH*CCP*01*011000015*DA*1234567890*1512345678**01*021000021*DA*98765*"
        f"{pay_date}~TRN*1*{trace}*1512345678~DTM*405*{pay_date}~N1*PR*ACME HEALTH~"
        "N1*PE*CLINIC*XX*1234567893~LX*1~" + "".join(c.text() for c in claims)
    )
    if plb:
        body += "PLB*1234567893*20261231*" + "*".join(f"{r}:{ref}*{a}" for r, ref, a in plb) + "~"
    count = body.count("~") + 2
    return (
        f"{ISA}GS*HP*PAYER*PROV*20261102*1200*1*X*005010X221A1~ST*835*{control}~{body}"
        f"SE*{count}*{control}~GE*1*1~IEA*1*000000001~"
    ).encode()
