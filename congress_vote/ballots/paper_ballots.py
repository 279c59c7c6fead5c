"""The full paper ballots of a batch as PDF: one ballot per page (A4 or A5)."""

from __future__ import annotations

from flask import current_app

from ..codes import format_code
from ..congress.models import Congress
from ..extensions import db
from ..polls.services import settings_of
from ..reports.pdf import qr_svg, render_pdf
from ..rules import max_kept
from .spec import poll_spec


def paper_ballots_pdf(poll, codes_: list[str], size: str = "A4") -> bytes:
    """One full paper ballot per page: header, title, candidates (or items) in ballot order,
    instructions, the QR of PUBLIC_BASE_URL/b/<code> and the printed code."""
    base = current_app.config["PUBLIC_BASE_URL"]
    congress = db.session.get(Congress, poll.congress_id)
    ballots = [{"code": format_code(c), "qr": qr_svg(f"{base}/b/{c}", size_mm=26)} for c in codes_]
    return render_pdf(
        "print/paper_ballots.html",
        poll=poll,
        congress=congress,
        ballots=ballots,
        size="A5" if size == "A5" else "A4",
        max_kept=max_kept(poll_spec(poll), settings_of(poll)),
    )
