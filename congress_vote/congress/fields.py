"""Field helpers and value sets shared by the congress modules (setup, delegates, import,
check-in, attendance)."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from flask_babel import gettext as _

from ..errors import ServiceError

KINDS = ("members", "delegates")


MEMBERSHIPS = ("full", "probationary")


STATUSES = ("absent", "present", "excused")


MAX_LEN = {"code": 50, "full_name": 200, "branch": 300, "position": 200}


def fold(text: str | None) -> str:
    """Lowercase, accents removed, đ -> d, spaces collapsed: for accent-insensitive matching."""
    if not text:
        return ""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def clean_name(text: str | None) -> str:
    """NFC, single spaces, no invisible format characters: the stored form of a name.

    Format characters (Unicode Cf: the right-to-left override U+202E, zero-width space U+200B,
    joiners, BOM, soft hyphen) are never part of a Vietnamese name; kept, they let two names look
    the same or one display reversed (reliability fuzzing, issue 8). Control characters (Cc:
    NUL, which PostgreSQL's text refuses, tabs, escapes) are never part of one either."""
    text = unicodedata.normalize("NFC", str(text or ""))
    text = "".join(" " if unicodedata.category(c) in ("Cf", "Cc") else c for c in text)
    return " ".join(text.split())


def parse_fraction(text) -> Fraction:
    """A quorum fraction "p/q" with 0 < p/q <= 1, or ServiceError 422."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*", str(text or ""))
    if not m or int(m.group(2)) == 0 or not (0 < int(m.group(1)) <= int(m.group(2))):
        raise ServiceError(
            "bad_quorum_fraction",
            _("The quorum fraction must look like 2/3 (p/q with 0 < p/q ≤ 1)."),
        )
    return Fraction(int(m.group(1)), int(m.group(2)))
