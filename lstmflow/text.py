"""Small text helpers shared by messages that know nothing of each other (init, diagnosis)."""

from __future__ import annotations


def listed(items: list[str], limit: int = 3) -> str:
    """'a, b, c and 4 more': the first `limit` items, and how many were left out."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
