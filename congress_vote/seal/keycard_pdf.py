"""The printed key card (issue 16): one A4 page with the opening code and the signing code of a
counting committee member, each as a QR and as typable text, and the fingerprints of both
public keys. Rendered in memory: no temporary file, nothing logged, and the answer is served
with ``Cache-Control: no-store`` (seal.keycards.key_card_response)."""

from __future__ import annotations

from babel import dates
from flask import current_app
from flask_babel import force_locale

from ..reports.pdf import qr_svg, render_pdf
from .codes import CardSecrets, fingerprint, format_key_code
from .keycards import issue_key_card
from .models import KeyCard


def _lines(code: str) -> list[str]:
    """The printed code in lines of four groups (header and check character included)."""
    groups = format_key_code(code).split("-")
    return ["-".join(groups[i : i + 4]) for i in range(0, len(groups), 4)]


def key_card_pdf(congress, user, card: KeyCard, secrets: CardSecrets) -> bytes:
    """The key card PDF (Vietnamese): name, congress, both codes, fingerprints, date, how to
    keep it."""
    with force_locale("vi"):
        return render_pdf(
            "print/key_card.html",
            congress=congress,
            member=user,
            card=card,
            issued_on=dates.format_date(card.created_at, "'ngày' d 'tháng' M 'năm' y", locale="vi"),
            opening_qr=qr_svg(secrets.opening_qr, size_mm=48),
            signing_qr=qr_svg(secrets.signing_qr, size_mm=48),
            opening_lines=_lines(secrets.opening_code),
            signing_lines=_lines(secrets.signing_code),
            opening_fingerprint=fingerprint(card.opening_public),
            signing_fingerprint=fingerprint(card.signing_public),
            doc_title="",
        )


def issue_and_print(congress, user) -> bytes:
    """A new key card for `user` in `congress` (seal.keycards.issue_key_card, flushed in the
    caller's transaction) and its PDF; the caller commits after the PDF is made, so a card that
    failed to print is never stored."""
    card, secrets = issue_key_card(congress, user)
    return key_card_pdf(congress, user, card, secrets)


def key_card_response(data: bytes, status: int = 201):
    """The PDF answer: inline, never stored by a browser or a proxy."""
    resp = current_app.response_class(data, status=status, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = 'inline; filename="the-khoa.pdf"'
    resp.headers["Cache-Control"] = "no-store, private, max-age=0"
    resp.headers["Pragma"] = "no-cache"
    return resp
