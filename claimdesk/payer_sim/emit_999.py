"""999 implementation acknowledgments (005010X231A1) for received functional groups.

One AK2…IK5 per transaction set; IK3 (segment, position in the set, loop, code)
and IK4 (element position, data element number, code) for each syntax issue.
IK5/AK9: A accepted, R rejected, P partially accepted (some sets rejected).
"""

from __future__ import annotations

from claimdesk.payer_sim._x12 import Outbound, segment, transaction, wrap
from claimdesk.payer_sim.inbound import Group

VERSION_999 = "005010X231A1"


def _body(group: Group) -> list[str]:
    body = [segment("AK1", group.functional_id, group.control_number, group.version)]
    accepted = 0
    for ts in group.sets:
        body.append(segment("AK2", ts.set_id, ts.control_number, ts.implementation))
        for issue in ts.issues[:50]:  # a real 999 stops listing somewhere too
            body.append(segment("IK3", issue.segment_id, str(issue.position), issue.loop or None,
                                issue.code))  # fmt: skip
            if issue.element is not None:
                body.append(
                    segment("IK4", str(issue.element), issue.element_ref or None,
                            issue.element_code)
                )  # fmt: skip
        if ts.accepted:
            accepted += 1
            body.append(segment("IK5", "A"))
        else:
            codes = list(dict.fromkeys(ts.set_errors + (["5"] if ts.issues else [])))[:5]
            body.append(segment("IK5", "R", *codes))
    count = len(group.sets)
    if group.group_errors or accepted == 0:
        status = "R"
    elif accepted == count:
        status = "A"
    else:
        status = "P"
    body.append(
        segment("AK9", status, str(count), str(count), str(accepted), *group.group_errors[:5])
    )
    return body


def emit_999(out: Outbound, groups: list[Group]) -> bytes:
    """One 999 set per received functional group, in one interchange."""
    sets = [transaction("999", n, VERSION_999, _body(g)) for n, g in enumerate(groups, start=1)]
    return wrap(out, "FA", VERSION_999, sets)
