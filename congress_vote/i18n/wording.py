"""Sentences shared by every page and paper that shows a result: the reconciliation checks in
words, ties and seats not filled. One wording everywhere (the result page, the minutes, the
announcement, the summary); numbers through i18n/formats.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _

from .formats import fmt_int


def check_text(check: Mapping) -> str:
    """A reconciliation check's detail (rules/checks.py writes it in a fixed, language-neutral
    order of figures) in the UI's language: "phát ra 132 ≤ có mặt 139"."""
    name, detail = check.get("name"), str(check.get("detail") or "")
    n = [fmt_int(int(x)) for x in re.findall(r"\d+", detail)]
    by_hand = " present " in f" {detail} " and name in (
        "votes_within_valid",
        "votes_sum_within_valid_times_seats",
    )
    basis = _("voters present") if by_hand else _("valid ballots")
    try:
        if name == "issued_within_present":
            return _("issued %(a)s ≤ present %(b)s", a=n[0], b=n[1])
        if name == "returned_within_issued":
            return _("returned %(a)s ≤ issued %(b)s", a=n[0], b=n[1])
        if name == "valid_plus_invalid_is_returned":
            return _("valid %(a)s + invalid %(b)s = returned %(c)s", a=n[0], b=n[1], c=n[2])
        if name == "votes_within_valid":
            if check.get("ok"):
                return _("each ≤ %(basis)s %(n)s", basis=basis, n=n[0])
            return _(
                "over %(basis)s %(n)s: number %(ids)s", basis=basis, n=n[0], ids=", ".join(n[1:])
            )
        if name == "votes_sum_within_valid_times_seats":
            return _(
                "sum %(t)s ≤ %(basis)s %(c)s × %(p)s = %(m)s",
                t=n[0],
                basis=basis,
                c=n[1],
                p=n[2],
                m=n[3],
            )
    except IndexError:
        pass
    return detail


def outcome_notes(result: Mapping, names: Mapping | None = None) -> list[str]:
    """Ties and seats not filled, as sentences, in this order: each tie, official seats not
    filled, alternate seats not filled, alternates decided later."""
    names = names or {c["id"]: c["full_name"] for c in result.get("candidates") or []}
    kinds = {"official": _("official seats"), "alternate": _("alternate seats")}
    out: list[str] = []
    for t in result.get("ties") or []:
        who: Sequence[str] = t.get("names") or [
            names.get(i, str(i)) for i in t.get("candidate_ids") or []
        ]
        out.append(
            _(
                "Tie at %(votes)s votes for %(n)s remaining %(kind)s between %(names)s: "
                "another round is needed.",
                votes=fmt_int(t.get("votes")),
                n=fmt_int(t.get("seats_contested")),
                kind=kinds.get(t.get("kind") or "official", kinds["official"]),
                names=", ".join(who),
            )
        )
    if result.get("unfilled_seats"):
        out.append(_("Seats not filled: %(n)s", n=fmt_int(result["unfilled_seats"])))
    if result.get("unfilled_alternate_seats"):
        out.append(
            _("Alternate seats not filled: %(n)s", n=fmt_int(result["unfilled_alternate_seats"]))
        )
    if result.get("alternates_pending"):
        out.append(
            _("Alternate seats will be decided after the tie for the official seats is settled.")
        )
    return out


def preset_label(key: str | None) -> str:
    """The name of a rules preset as people read it (the raw key only when unknown)."""
    labels = {
        "vn-party": _("Party (QĐ 190): more than half of those summoned"),
        "majority-of-valid": _("More than half of the valid ballots"),
        "roberts": _("Robert's Rules"),
    }
    return labels.get(key or "", key or "")


PRESET_KEYS = ("vn-party", "majority-of-valid", "roberts")
