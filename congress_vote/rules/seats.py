"""Filling seats from the qualified candidates, and the ties at the cut-off (docs/rules.md,
"Who is elected"): the highest vote-getters fill the seats in descending order; a group with
equal votes that straddles the last seat is elected in none of its members and reported as a
tie contesting the seats left.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def fill_seats(
    groups: list[list[int]], seats: int
) -> tuple[list[int], list[int] | None, int, int, list[list[int]]]:
    """Fill ``seats`` from ``groups`` (qualified candidates grouped by equal votes, best first).

    Returns (elected, tied group or None, seats contested by the tie, unfilled seats, groups
    left over). A group that does not fit entirely in the seats left is a tie at the cut-off:
    none of it is elected, and it contests every seat left.
    """
    elected: list[int] = []
    for n, group in enumerate(groups):
        left = seats - len(elected)
        if left == 0:
            return elected, None, 0, 0, groups[n:]
        if len(group) > left:
            return elected, group, left, 0, groups[n + 1 :]
        elected.extend(group)
    return elected, None, 0, seats - len(elected), []


def tie_entry(
    group: list[int], contested: int, votes: Counter[int], kind: str, position: dict[int, int]
) -> dict[str, Any]:
    """A tie at the cut-off as the result lists it (ids in ballot order)."""
    return {
        "candidate_ids": sorted(group, key=position.__getitem__),
        "seats_contested": contested,
        "votes": votes[group[0]],
        "kind": kind,
    }
