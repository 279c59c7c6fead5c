#!/usr/bin/env python3
"""Build the Vietnamese catalogue: extract every UI string, merge the per-area translation
fragments (congress_vote/i18n/vi/*.po) into congress_vote/i18n/translations/vi/LC_MESSAGES/
messages.po, compile it, and list the strings that still have no translation.

    .venv/bin/python scripts/i18n.py            # extract, merge, compile, report
    .venv/bin/python scripts/i18n.py --check    # exit 1 if any string is untranslated
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "congress_vote" / "i18n" / "vi"
OUT = ROOT / "congress_vote" / "i18n" / "translations" / "vi" / "LC_MESSAGES"
POT = ROOT / "congress_vote" / "i18n" / "messages.pot"


def _replace(path: Path, write) -> None:
    """Write through a temporary file and rename: a test run or server reading the catalogue
    while another run rebuilds it never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write(f)
    os.replace(tmp, path)


def extract() -> Catalog:
    pybabel = Path(sys.executable).with_name("pybabel")
    tmp = POT.with_name(f".{POT.name}.{os.getpid()}.tmp")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "--no-location", "--sort-output", "-o", str(tmp),
                    "congress_vote", "templates"], check=True, cwd=ROOT)
    os.replace(tmp, POT)
    with POT.open("rb") as f:
        return read_po(f)


def translations() -> dict:
    known: dict = {}
    for frag in sorted(FRAGMENTS.glob("*.po")):
        with frag.open("rb") as f:
            cat = read_po(f, locale="vi")
        for m in cat:
            if m.id and m.string:
                known.setdefault(m.id, m.string)
    return known


def main() -> int:
    template = extract()
    known = translations()
    cat = Catalog(locale="vi", project="congress-vote", charset="utf-8")
    missing = []
    total = 0
    for m in template:
        if not m.id:
            continue
        total += 1
        string = known.get(m.id)
        if string is None:
            missing.append(m.id if isinstance(m.id, str) else m.id[0])
        cat.add(m.id, string or ("" if isinstance(m.id, str) else ("", "")),
                flags=m.flags - {"fuzzy"})
    OUT.mkdir(parents=True, exist_ok=True)
    _replace(OUT / "messages.po", lambda f: write_po(f, cat, width=100))
    _replace(OUT / "messages.mo", lambda f: write_mo(f, cat))
    print(f"{total - len(missing)} translated, {len(missing)} missing")
    for mid in missing:
        print("  missing:", mid)
    return 1 if ("--check" in sys.argv and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
