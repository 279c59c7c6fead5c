"""The official form of the congress's papers (biên bản kiểm phiếu, thông báo kết quả, the
summary): the heading block, the congress's name with its term once, the committee's signers
and the verification rows. Every time in the congress's time zone (i18n/formats.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..db import utcnow
from ..i18n.formats import fmt_date, fmt_time, local


def congress_title(congress) -> str:
    """The congress's name with its term, the term printed once (not when the name has it)."""
    name, term = (congress.name or "").strip(), (congress.term or "").strip()
    if term and term.replace("–", "-") not in name.replace("–", "-"):
        return _("%(name)s, term %(term)s", name=name, term=term)
    return name


def heading(congress, body: str, when: datetime | None = None) -> dict:
    """The heading block: the organisation and the issuing body on the left; the Party's name,
    the place and the long date on the right."""
    moment = local(when or utcnow(), congress)
    return {
        "organisation": (congress.organisation or "").upper(),
        "body": body.upper(),
        "party": _("COMMUNIST PARTY OF VIETNAM"),
        "place": (congress.venue or "").strip(),
        "date": fmt_date(moment, congress),
        "congress": congress_title(congress),
    }


def signer_rows(poll, congress, members: list[dict], signoffs: list[dict]) -> list[dict]:
    """Each committee member with full name, title, role and the signature details the
    verification block prints: from counting.signoff.signature_rows when the key cards provide
    it (fingerprints and signature), else the stored sign-offs (time only)."""
    from ..counting import signoff

    rows_fn = getattr(signoff, "signature_rows", None)
    if rows_fn is not None:
        rows = [dict(r) for r in rows_fn(poll)]
    else:
        signed = {s["user_id"]: s["signed_at"] for s in signoffs}
        rows = [
            {
                "full_name": m["full_name"],
                "title": m["title"],
                "is_head": m["head"],
                "signed_at": signed.get(m["id"]),
            }
            for m in members
        ]
    for r in rows:
        r["signed_time"] = fmt_time(r.get("signed_at"), congress) if r.get("signed_at") else ""
        r["signed_date"] = fmt_date(r.get("signed_at"), congress) if r.get("signed_at") else ""
        sig = r.get("signature")
        if isinstance(sig, bytes | bytearray):
            r["signature"] = sig.hex()
    return rows
