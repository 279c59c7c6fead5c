"""Delegate cards and the credentials committee's attendance report (PDF).

Cards: A4 sheets of 10 cards (2 columns x 5 rows, 90 x 54 mm, cut marks by the card borders),
each with the congress, the delegate's name, branch, list code, membership, a 28 mm QR code of
`CV1:C:<card code>` and the card code printed in groups for typing. Large lists are rendered in
batches of whole pages (HTML is built here, WeasyPrint lays out each batch, pypdf joins them), in
worker processes when the machine has more than one core.

What keeps 2,000 cards fast (bench/bench_cards.py; WeasyPrint's work per card is the cost):
* the QR images are drawn by the URL fetcher of the process that lays out the batch, from a
  `cvqr:` URL in the HTML: no base64 data: URI to build, tokenize and decode, and the PNG is
  grayscale (WeasyPrint converts a 1-bit PNG to RGB and encodes it twice more);
* a card's QR modules come from the qrcode package with a fixed mask (it would otherwise score
  all eight masks, most of its time);
* the cards are laid out with WeasyPrint's user-agent stylesheet minus its rules for the
  list-marker and footnote pseudo-elements of every element, which cards never have: with them
  WeasyPrint computes six extra styles for each of the ~2,250 elements of a batch;
* one small stylesheet (static/css/cards.css) and no whitespace between the cards' tags;
* the parent hands each batch to the pool as soon as its HTML is built and joins the parts as
  they come back, so that only the last part and the writing of the PDF wait for the workers;
  its objects are frozen for the garbage collectors meanwhile.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from email.message import EmailMessage
from functools import cache

import qrcode
import qrcode.util
from flask import current_app, render_template
from flask_babel import force_locale, format_datetime
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcherResponse

from .. import codes
from ..audit.services import head_hash
from ..db import utcnow
from ..reports.pdf import STATIC, LocalOnlyFetcher, html_to_pdf, join_pdfs
from .attendance import absentees, attendance
from .cards import QR_PREFIX, card_code
from .delegates import list_delegates
from .models import Congress, Delegate

CARDS_PER_PAGE = 10
BATCH_PAGES = 25  # 250 cards per WeasyPrint run


# --- QR codes ------------------------------------------------------------------------------
#
# A card's QR holds `CV1:C:` + 17 characters, all of the QR alphanumeric set: version 2 (25 x 25
# modules), error correction M, one alphanumeric segment, mask 4 always (any mask decodes; the
# qrcode package would otherwise score all eight, most of its time). The modules come from the
# qrcode package, written by Pillow as an 8-bit gray PNG (WeasyPrint embeds that as it is; it
# converted 1-bit images to RGB).

_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_V2M_CHARS = 38  # alphanumeric capacity of version 2-M
_MASK = 4


def _fits_v2m(data: str) -> bool:
    return len(data) <= _V2M_CHARS and all(c in _ALNUM for c in data)


def qr_matrix(data: str, border: int = 2) -> list[list[bool]]:
    """The modules of a QR code (error correction M, mask 4) of `data`, quiet zone included, by
    the qrcode package; text of the alphanumeric set as one alphanumeric segment (for a card's
    text, what the package chooses itself), in version 2 when it fits."""
    fits = _fits_v2m(data)
    qr = qrcode.QRCode(
        version=2 if fits else None,
        border=border,
        mask_pattern=_MASK,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    if all(c in _ALNUM for c in data):
        # types-qrcode declares MODE_ALPHA_NUM as a plain int, its QRData a Literal[1, 2, 4] mode
        qr.add_data(
            qrcode.util.QRData(  # type: ignore[call-overload]
                data.encode(), mode=qrcode.util.MODE_ALPHA_NUM
            )
        )
    else:
        qr.add_data(data)
    qr.make(fit=not fits)
    return qr.get_matrix()


def qr_png(data: str, border: int = 2) -> bytes:
    """A QR code (error correction M) as an 8-bit grayscale PNG with one pixel per module:
    printed with `image-rendering: pixelated`, as sharp as vector squares and much faster to
    lay out. The modules of qr_matrix."""
    matrix = qr_matrix(data, border)
    n = len(matrix)
    img = Image.frombytes("L", (n, n), bytes(0 if m else 255 for row in matrix for m in row))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


_QR_SCHEME = "cvqr:"
_QR_DATA = re.compile(r"[A-Z0-9:]{1,60}")


@cache
def _png_headers() -> EmailMessage:
    """Headers of every QR answer: built once (WeasyPrint reads the type, changes nothing)."""
    headers = EmailMessage()
    headers["Content-Type"] = "image/png"
    return headers


class CardsFetcher(LocalOnlyFetcher):
    """LocalOnlyFetcher that also answers `cvqr:<text>` with the PNG of the QR code of <text>
    (upper-case letters, digits and colons only). No I/O."""

    def fetch(self, url, headers=None):
        if url.startswith(_QR_SCHEME):
            text = url[len(_QR_SCHEME) :]
            if not _QR_DATA.fullmatch(text):
                raise ValueError(f"not a card QR text: {text[:80]!r}")
            return URLFetcherResponse(url, qr_png(text), _png_headers())
        return super().fetch(url, headers)


# --- the cards document --------------------------------------------------------------------

# Pseudo-elements that WeasyPrint's user-agent stylesheet gives a rule for on every element
# (`::marker { … }`); a card has no list item and no footnote, so these never make a box.
_UNUSED_PSEUDO = (
    "marker",
    "footnote-call",
    "footnote-marker",
    "note-call",
    "note-marker",
    "note-callback",
)
_UNUSED_PSEUDO_RULE = re.compile(
    r"(?m)^::(?:" + "|".join(map(re.escape, _UNUSED_PSEUDO)) + r")\s*\{[^{}]*\}[ \t]*$"
)


def cards_ua_css(ua: str) -> str:
    """WeasyPrint's user-agent stylesheet text without the universal rules of _UNUSED_PSEUDO."""
    return _UNUSED_PSEUDO_RULE.sub("", ua)


@cache
def _cards_html_class() -> type[HTML]:
    """HTML with the trimmed user-agent stylesheet, or plain HTML if this WeasyPrint does not
    have the pieces (then cards are the same, only slower)."""
    try:
        from weasyprint.css.counters import CounterStyle
        from weasyprint.html import UA
    except ImportError:  # pragma: no cover - another WeasyPrint
        return HTML
    if not callable(getattr(HTML, "_ua_stylesheets", None)):  # pragma: no cover
        return HTML
    # Its @counter-style rules are WeasyPrint's own UA_COUNTER_STYLE's (which documents use);
    # parsed into a throw-away registry, they do not clash with those.
    sheet = CSS(string=cards_ua_css(UA), counter_style=CounterStyle())

    class CardsHTML(HTML):
        def _ua_stylesheets(self, *args, **kwargs):  # (forms=False): cards have no form
            return [sheet]

    return CardsHTML


def _card(d: Delegate) -> dict:
    code = card_code(d)
    return {
        "name": d.full_name,
        "branch": d.branch_name,
        "code": d.code,
        "full": d.can_vote,
        "card_code": codes.format_code(code),
        # Drawn by the fetcher of the process that lays out the batch (CardsFetcher).
        "qr": _QR_SCHEME + QR_PREFIX + code,
    }


def _cards_batches(congress: Congress, delegates: list[Delegate]) -> Iterator[str]:
    batch = CARDS_PER_PAGE * BATCH_PAGES
    with force_locale("vi"):
        for start in range(0, max(len(delegates), 1), batch):
            cards = [_card(d) for d in delegates[start : start + batch]]
            pages = [cards[i : i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)]
            yield render_template(
                "print/cards.html", congress=congress, pages=pages, static_path=STATIC.as_uri()
            )


def _n_batches(delegates: list[Delegate]) -> int:
    return max(1, -(-len(delegates) // (CARDS_PER_PAGE * BATCH_PAGES)))


def cards_html(congress: Congress, delegates: list[Delegate]) -> list[str]:
    """One HTML document per batch of BATCH_PAGES pages (Vietnamese, as printed)."""
    return list(_cards_batches(congress, delegates))


def _layout(html: str) -> bytes:
    """Lay out one batch of cards (runs in a worker process)."""
    return html_to_pdf(html, _cards_html_class(), CardsFetcher)


def _workers(n_docs: int) -> int:
    if n_docs < 2 or current_app.config.get("PDF_WORKERS") == 1:
        return 1
    return max(1, min(n_docs, current_app.config.get("PDF_WORKERS") or os.cpu_count() or 1))


def render_many(
    docs: Iterable[str],
    n_docs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Cards HTML documents (a list, or an iterable of `n_docs`) -> one PDF; in parallel
    processes when it pays. Each document is handed to the pool as soon as it is made, and the
    parts are joined in order as they come back; `progress(n)` is told each time n documents
    are laid out (the background job's progress bar, jobs/runner.py)."""
    tell = progress or (lambda n: None)
    if n_docs is None:
        docs = list(docs)
        n_docs = len(docs)
    workers = _workers(n_docs)
    _cards_html_class()  # built once here, so that forked workers inherit it
    if workers == 1:
        parts = []
        for h in docs:
            parts.append(_layout(h))
            tell(len(parts))
        return parts[0] if len(parts) == 1 else join_pdfs(parts)
    # fork: the children only lay out HTML strings; they touch no database or request.
    # gc.freeze(): the collectors of the workers and of this process skip the objects this
    # process had before (the app's): less collector work, and fewer of their pages written to,
    # so copied, in the workers (2,000 cards: ~150,000 page faults in the workers, ~131,000).
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as ex:
            futures = [ex.submit(_layout, h) for h in docs]

            def laid_out():
                for n, f in enumerate(futures, 1):
                    part = f.result()
                    tell(n)
                    yield part

            return join_pdfs(laid_out())
    finally:
        gc.unfreeze()


def cards_pdf(
    congress: Congress,
    delegates: list[Delegate] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The delegate cards of `delegates` (default: the whole list in Vietnamese name order);
    `progress(cards done, cards)` as batches are laid out."""
    if delegates is None:
        delegates = list_delegates(congress)
    total, per = len(delegates), CARDS_PER_PAGE * BATCH_PAGES
    tell = (lambda n: progress(min(total, n * per), total)) if progress else None
    return render_many(_cards_batches(congress, delegates), _n_batches(delegates), tell)


def attendance_pdf(congress: Congress) -> bytes:
    """The credentials committee's attendance report, in Vietnamese."""
    absent, excused = absentees(congress)
    with force_locale("vi"):
        html = render_template(
            "print/attendance.html",
            congress=congress,
            figures=attendance(congress),
            absent=absent,
            excused=excused,
            printed_at=format_datetime(utcnow(), "HH:mm, dd/MM/yyyy"),
            audit_head=head_hash(),
            static_path=STATIC.as_uri(),
        )
    return html_to_pdf(html)
