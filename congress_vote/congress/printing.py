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
* a card's QR modules are placed by the small encoder below (~0.08 ms a code; the qrcode
  package took ~0.5 ms, mostly its Reed-Solomon polynomial arithmetic), checked module by
  module against the package in tests;
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
import multiprocessing
import os
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from email.message import EmailMessage
from functools import cache

import qrcode
import qrcode.util
from flask import current_app, render_template
from flask_babel import force_locale, format_datetime
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcherResponse

from .. import codes
from ..audit.services import head_hash
from ..db import utcnow
from ..reports.pdf import STATIC, LocalOnlyFetcher, html_to_pdf, join_pdfs
from .models import Congress, Delegate
from .services import QR_PREFIX, absentees, attendance, card_code, list_delegates

CARDS_PER_PAGE = 10
BATCH_PAGES = 25  # 250 cards per WeasyPrint run


# --- QR codes ------------------------------------------------------------------------------
#
# A card's QR holds `CV1:C:` + 17 characters, all of the QR alphanumeric set: version 2 (25 x 25
# modules), error correction M, mask 4 always (any mask decodes; the qrcode package would try
# all eight). For that case the modules are placed here, on a template of the fixed patterns
# drawn once by the qrcode package; tests check that every module equals the package's. Any
# other text goes through the package.

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_INDEX = {c: i for i, c in enumerate(_ALNUM)}
_V2M_CHARS = 38                          # alphanumeric capacity of version 2-M
_V2M_DATA, _V2M_EC, _V2_SIZE = 28, 16, 25  # codewords (one block), modules per side
_MASK = 4

# GF(256) of QR codes (x^8 + x^4 + x^3 + x^2 + 1); antilog table doubled, so that
# _EXP[log a + log b] needs no modulo.
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _EXP[_i + 255] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
del _x, _i


@cache
def _rs_generator_logs(n: int) -> tuple[int, ...]:
    """Logs of the coefficients after the leading 1 of the generator polynomial of n error
    correction codewords, (x - a^0)(x - a^1)...(x - a^(n-1)), highest degree first."""
    gen = [1]
    for i in range(n):
        times = [0] + [0 if c == 0 else _EXP[_LOG[c] + i] for c in gen]
        gen = [a ^ b for a, b in zip(gen + [0], times)]
    assert all(gen)  # true of every QR generator: a log for each
    return tuple(_LOG[c] for c in gen[1:])


def rs_codewords(data: list[int], n: int) -> list[int]:
    """The n Reed-Solomon error correction codewords of `data` (a shift register)."""
    gen = _rs_generator_logs(n)
    ec = [0] * n
    for byte in data:
        f = byte ^ ec[0]
        del ec[0]
        ec.append(0)
        if f:
            lf = _LOG[f]
            ec = [e ^ _EXP[lf + g] for e, g in zip(ec, gen)]
    return ec


def _v2m_codewords(text: str) -> list[int]:
    """Data and error correction codewords of alphanumeric `text` in a version 2-M code."""
    bits, n = 0b0010 << 9 | len(text), 13  # mode, character count (9 bits below version 10)
    for i in range(0, len(text) - 1, 2):
        bits, n = bits << 11 | 45 * _ALNUM_INDEX[text[i]] + _ALNUM_INDEX[text[i + 1]], n + 11
    if len(text) % 2:
        bits, n = bits << 6 | _ALNUM_INDEX[text[-1]], n + 6
    pad = min(4, _V2M_DATA * 8 - n)  # terminator
    pad += -(n + pad) % 8            # to a whole byte
    data = list((bits << pad).to_bytes((n + pad) // 8, "big"))
    data += [0xEC, 0x11] * ((_V2M_DATA - len(data) + 1) // 2)
    data = data[:_V2M_DATA]
    return data + rs_codewords(data, _V2M_EC)


@cache
def _v2m_modules() -> list[tuple[int, int, bool]]:
    """(row, column, mask bit) of each data module of a version 2 code, in placement order."""
    n = _V2_SIZE
    fixed = [[False] * n for _ in range(n)]
    for rows, cols in ((range(9), range(9)), (range(9), range(n - 8, n)),  # finders, format
                       (range(n - 8, n), range(9)),                        # (and dark module)
                       (range(6, 7), range(n)), (range(n), range(6, 7)),   # timing
                       (range(16, 21), range(16, 21))):                    # alignment
        for r in rows:
            for c in cols:
                fixed[r][c] = True
    order, upward, col = [], True, n - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern
            col -= 1
        for r in (range(n - 1, -1, -1) if upward else range(n)):
            order += [(r, c, (r // 2 + c // 3) % 2 == 0) for c in (col, col - 1)
                      if not fixed[r][c]]
        upward, col = not upward, col - 2
    assert len(order) == (_V2M_DATA + _V2M_EC) * 8 + 7  # 7 remainder bits in version 2
    return order


@cache
def _v2m_template(border: int) -> tuple[bytes, list[tuple[int, bool]]]:
    """PNG scanlines (filter byte, then one gray byte per module) of a version 2-M mask 4 code
    with its data modules still to set, and (byte index, mask bit) of each data module."""
    qr = qrcode.QRCode(version=2, error_correction=qrcode.constants.ERROR_CORRECT_M,
                       border=border, mask_pattern=_MASK)
    qr.add_data("0")
    qr.make(fit=False)
    stride = _V2_SIZE + 2 * border + 1
    lines = b"".join(b"\x00" + bytes(0 if m else 255 for m in row) for row in qr.get_matrix())
    where = [((r + border) * stride + 1 + c + border, mask) for r, c, mask in _v2m_modules()]
    return lines, where


def _png(lines: bytes, size: int) -> bytes:
    """An 8-bit grayscale PNG of `size` x `size` pixels from its scanlines."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit gray, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(lines))
            + chunk(b"IEND", b""))


def _fits_v2m(data: str) -> bool:
    return len(data) <= _V2M_CHARS and all(c in _ALNUM_INDEX for c in data)


def qr_matrix(data: str, border: int = 2) -> list[list[bool]]:
    """The modules of a QR code (error correction M, mask 4) of `data`, quiet zone included, by
    the qrcode package; text of the alphanumeric set as one alphanumeric segment (for a card's
    text, what the package chooses itself), in version 2 when it fits, as qr_png."""
    fits = _fits_v2m(data)
    qr = qrcode.QRCode(version=2 if fits else None, border=border, mask_pattern=_MASK,
                       error_correction=qrcode.constants.ERROR_CORRECT_M)
    if all(c in _ALNUM_INDEX for c in data):
        qr.add_data(qrcode.util.QRData(data.encode(), mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        qr.add_data(data)
    qr.make(fit=not fits)
    return qr.get_matrix()


def qr_png(data: str, border: int = 2) -> bytes:
    """A QR code (error correction M) as an 8-bit grayscale PNG with one pixel per module:
    printed with `image-rendering: pixelated`, as sharp as vector squares and much faster to
    lay out. Same modules as qr_matrix."""
    if _fits_v2m(data):
        lines, where = _v2m_template(border)
        px = bytearray(lines)
        bits = format(int.from_bytes(bytes(_v2m_codewords(data)), "big") << 7, "b")
        bits = bits.zfill(len(where))
        for (i, mask), bit in zip(where, bits):
            px[i] = 255 if (bit == "1") == mask else 0  # dark = bit xor mask
        return _png(bytes(px), _V2_SIZE + 2 * border)
    matrix = qr_matrix(data, border)
    return _png(b"".join(b"\x00" + bytes(0 if m else 255 for m in row) for row in matrix),
                len(matrix))


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
            text = url[len(_QR_SCHEME):]
            if not _QR_DATA.fullmatch(text):
                raise ValueError(f"not a card QR text: {text[:80]!r}")
            return URLFetcherResponse(url, qr_png(text), _png_headers())
        return super().fetch(url, headers)


# --- the cards document --------------------------------------------------------------------

# Pseudo-elements that WeasyPrint's user-agent stylesheet gives a rule for on every element
# (`::marker { … }`); a card has no list item and no footnote, so these never make a box.
_UNUSED_PSEUDO = ("marker", "footnote-call", "footnote-marker", "note-call", "note-marker",
                  "note-callback")
_UNUSED_PSEUDO_RULE = re.compile(
    r"(?m)^::(?:%s)\s*\{[^{}]*\}[ \t]*$" % "|".join(map(re.escape, _UNUSED_PSEUDO)))


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
    return {"name": d.full_name, "branch": d.branch_name, "code": d.code,
            "full": d.can_vote, "card_code": codes.format_code(code),
            # Drawn by the fetcher of the process that lays out the batch (CardsFetcher).
            "qr": _QR_SCHEME + QR_PREFIX + code}


def _cards_batches(congress: Congress, delegates: list[Delegate]) -> Iterator[str]:
    batch = CARDS_PER_PAGE * BATCH_PAGES
    with force_locale("vi"):
        for start in range(0, max(len(delegates), 1), batch):
            cards = [_card(d) for d in delegates[start:start + batch]]
            pages = [cards[i:i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)]
            yield render_template("print/cards.html", congress=congress, pages=pages,
                                  static_path=STATIC.as_uri())


def _n_batches(delegates: list[Delegate]) -> int:
    return max(1, -(-len(delegates) // (CARDS_PER_PAGE * BATCH_PAGES)))


def cards_html(congress: Congress, delegates: list[Delegate]) -> list[str]:
    """One HTML document per batch of BATCH_PAGES pages (Vietnamese, as printed)."""
    return list(_cards_batches(congress, delegates))


def _layout(html: str) -> bytes:
    """Lay out one batch of cards (runs in a worker process)."""
    doc = _cards_html_class()(string=html, base_url=str(STATIC) + "/",
                              url_fetcher=CardsFetcher(allowed_protocols=("data", "file")))
    return doc.write_pdf()


def _workers(n_docs: int) -> int:
    if n_docs < 2 or current_app.config.get("PDF_WORKERS") == 1:
        return 1
    return max(1, min(n_docs, current_app.config.get("PDF_WORKERS") or os.cpu_count() or 1))


def render_many(docs: Iterable[str], n_docs: int | None = None) -> bytes:
    """Cards HTML documents (a list, or an iterable of `n_docs`) -> one PDF; in parallel
    processes when it pays. Each document is handed to the pool as soon as it is made, and the
    parts are joined in order as they come back."""
    if n_docs is None:
        docs = list(docs)
        n_docs = len(docs)
    workers = _workers(n_docs)
    _cards_html_class()  # built once here, so that forked workers inherit it
    if workers == 1:
        parts = [_layout(h) for h in docs]
        return parts[0] if len(parts) == 1 else join_pdfs(parts)
    # fork: the children only lay out HTML strings; they touch no database or request.
    # gc.freeze(): the collectors of the workers and of this process skip the objects this
    # process had before (the app's): less collector work, and fewer of their pages written to,
    # so copied, in the workers (2,000 cards: ~150,000 page faults in the workers, ~131,000).
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as ex:
            futures = [ex.submit(_layout, h) for h in docs]
            return join_pdfs(f.result() for f in futures)
    finally:
        gc.unfreeze()


def cards_pdf(congress: Congress, delegates: list[Delegate] | None = None) -> bytes:
    """The delegate cards of `delegates` (default: the whole list in Vietnamese name order)."""
    if delegates is None:
        delegates = list_delegates(congress)
    return render_many(_cards_batches(congress, delegates), _n_batches(delegates))


def attendance_pdf(congress: Congress) -> bytes:
    """The credentials committee's attendance report, in Vietnamese."""
    absent, excused = absentees(congress)
    with force_locale("vi"):
        html = render_template("print/attendance.html", congress=congress,
                               figures=attendance(congress), absent=absent, excused=excused,
                               printed_at=format_datetime(utcnow(), "HH:mm, dd/MM/yyyy"),
                               audit_head=head_hash(), static_path=STATIC.as_uri())
    return html_to_pdf(html)
