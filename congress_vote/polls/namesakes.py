"""Namesakes on a list of candidates: what tells two people of the same name apart (issue 17).

Namesakes are common in Vietnam ("Nguyễn Văn Hùng"): two candidates of one poll may share a full
name. Wherever a candidate is shown (the ballot, the count page, results, minutes, the projector)
a namesake's name is followed by their details — position, year of birth (from their delegate),
and failing both their branch — through one helper: :func:`candidate_label` (the Jinja filter
``who``: ``{{ c|who }}`` for a Candidate or a result dict with its ``id``) and
:func:`candidate_detail` (the details alone, "" for a name nobody else on the list carries).
A name that is not shared is shown as it is.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from ..congress.models import Delegate
from ..extensions import db
from .models import Candidate, Poll


@functools.lru_cache(maxsize=8192)  # called for every candidate shown, per candidate shown
def name_key(name: str | None) -> str:
    """Two names that read the same (case, spacing and Unicode form folded)."""
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


def _details(c: Candidate) -> str:
    parts = [c.position] if c.position else []
    d = db.session.get(Delegate, c.delegate_id) if c.delegate_id else None
    if d is not None and d.birth_year:
        parts.append(_("born %(year)s", year=d.birth_year))
    if d is not None and not parts:
        parts.append(" · ".join(x for x in (d.code, d.branch_name) if x))
    return ", ".join(p for p in parts if p)


def poll_namesakes(poll: Poll) -> dict[int, str]:
    """{candidate id: details} for the candidates of `poll` whose name another candidate of the
    same poll carries too."""
    groups: dict[str, list[Candidate]] = {}
    for c in poll.candidates:
        groups.setdefault(name_key(c.full_name), []).append(c)
    return {c.id: _details(c) for g in groups.values() if len(g) > 1 for c in g}


def candidate_detail(c: Candidate | Mapping[str, Any] | None) -> str:
    """The details that tell this candidate from a namesake on the same list ("" if none)."""
    cand = _candidate(c)
    if cand is None:
        return ""
    return poll_namesakes(cand.poll).get(cand.id, "")


def candidate_label(c: Candidate | Mapping[str, Any] | None) -> str:
    """The candidate's name, followed by their details when a namesake stands too:
    "Nguyễn Văn Hùng (Bí thư Chi bộ 3, sinh năm 1975)"."""
    if c is None:
        return ""
    name = c.full_name if isinstance(c, Candidate) else str(c.get("full_name") or "")
    detail = candidate_detail(c)
    return f"{name} ({detail})" if detail else name


def _candidate(c: Candidate | Mapping[str, Any] | None) -> Candidate | None:
    if isinstance(c, Candidate):
        return c
    if isinstance(c, Mapping) and isinstance(c.get("id"), int):
        return db.session.get(Candidate, c["id"])
    return None
