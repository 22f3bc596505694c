"""Showing the minimum necessary: how PHI looks where a person does not need all of it."""

from __future__ import annotations


def mask_member_id(member_id: str | None) -> str:
    """The member id's last four characters, the rest hidden (lists and search results)."""
    if not member_id:
        return ""
    return "•" * max(len(member_id) - 4, 2) + member_id[-4:]
