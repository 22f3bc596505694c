"""Small, whole X12 interchanges for gateway tests (structure only; no real member data)."""

from __future__ import annotations


def isa(sender: str = "SIMPAYER", receiver: str = "CLAIMDESK", control: int = 1) -> str:
    segment = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}"
        f"*250101*1200*^*00501*{control:09d}*0*T*:~"
    )
    assert len(segment) == 106, len(segment)
    return segment


def interchange(st01: str, *, control: int = 1, body: str = "") -> bytes:
    """An interchange with one group and one ``st01`` transaction set."""
    functional = {"271": "HB", "277": "HN", "999": "FA", "835": "HP", "837": "HC"}.get(st01, "HC")
    segments = [
        f"GS*{functional}*SIMPAYER*CLAIMDESK*20250101*1200*{control}*X*005010~",
        f"ST*{st01}*0001~",
        body,
        "SE*2*0001~",
        f"GE*1*{control}~",
        f"IEA*1*{control:09d}~",
    ]
    return (isa(control=control) + "".join(segments)).encode("ascii")


def ta1(control: int = 1) -> bytes:
    return (
        isa(control=control) + f"TA1*{control:09d}*250101*1200*A*000~IEA*0*{control:09d}~"
    ).encode("ascii")
