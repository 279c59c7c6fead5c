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
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the merge and compile steps live in the package, so the package build uses the same ones
from congress_vote.i18n import build

FRAGMENTS = build.FRAGMENTS
POT = ROOT / "congress_vote" / "i18n" / "messages.pot"


def extract() -> Catalog:
    pybabel = Path(sys.executable).with_name("pybabel")
    tmp = POT.with_name(f".{POT.name}.{os.getpid()}.tmp")
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(tmp),
            "congress_vote",
            "templates",
        ],
        check=True,
        cwd=ROOT,
    )
    os.replace(tmp, POT)
    with POT.open("rb") as f:
        return read_po(f)


def translations() -> dict:
    """Every translated message of the fragments (the first fragment wins on a duplicate;
    tests/test_i18n.py checks that duplicates agree)."""
    return build.translations(FRAGMENTS)


def main() -> int:
    cat, missing = build.catalogue(translations(), extract())
    build.write_catalogue(cat)
    total = len([m for m in cat if m.id])
    print(f"{total - len(missing)} translated, {len(missing)} missing")
    for mid in missing:
        print("  missing:", mid)
    return 1 if ("--check" in sys.argv and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
