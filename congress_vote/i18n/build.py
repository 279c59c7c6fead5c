"""Compile the Vietnamese catalogue from the per-area fragments (``congress_vote/i18n/vi/*.po``).

Two callers: ``scripts/i18n.py`` (extract every UI string, merge, compile, list what is
untranslated) and the package build (``build_backend/congress_build.py``), which compiles the
catalogue into every wheel so that a plain ``pip install .`` speaks Vietnamese.

This module imports only the standard library and Babel: the package build loads it by file
path, in an environment where Flask and the rest of the app are not installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
FRAGMENTS = HERE / "vi"
TRANSLATIONS = HERE / "translations"


class FragmentConflict(ValueError):
    """Two fragments translate the same string differently (the merge must stay conflict-free:
    otherwise the fragment read first would silently win and change a term between pages)."""


def translations(fragments: Path = FRAGMENTS, strict: bool = False) -> dict:
    """Every translated message of the fragments, ``{msgid: msgstr}`` (plural ids and strings
    are tuples). With ``strict``, a msgid translated two different ways raises
    :class:`FragmentConflict`; otherwise the first fragment (by file name) wins."""
    known: dict = {}
    where: dict = {}
    for frag in sorted(fragments.glob("*.po")):
        with frag.open("rb") as f:
            cat = read_po(f, locale="vi")
        for m in cat:
            if not (m.id and m.string):
                continue
            if m.id in known and known[m.id] != m.string and strict:
                raise FragmentConflict(
                    f"{m.id!r} is {known[m.id]!r} in {where[m.id]} but {m.string!r} in {frag.name}"
                )
            if m.id not in known:
                known[m.id] = m.string
                where[m.id] = frag.name
    return known


def catalogue(known: dict, template: Iterable | None = None) -> tuple[Catalog, list[str]]:
    """The Vietnamese catalogue and the msgids that have no translation.

    With ``template`` (the messages extracted from the code and templates) the catalogue holds
    exactly the template's messages; without, every translated message of the fragments (what
    the package build does: it needs no extraction, and an unused translation costs nothing).
    """
    cat = Catalog(locale="vi", project="congress-vote", charset="utf-8")
    missing: list[str] = []
    if template is None:
        for mid, string in known.items():
            cat.add(mid, string)
        return cat, missing
    for m in template:
        if not m.id:
            continue
        string = known.get(m.id)
        if string is None:
            missing.append(m.id if isinstance(m.id, str) else m.id[0])
        cat.add(
            m.id, string or ("" if isinstance(m.id, str) else ("", "")), flags=m.flags - {"fuzzy"}
        )
    return cat, missing


def _replace(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through a temporary file and rename: a test run or server reading the catalogue
    while another run rebuilds it never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write(f)
    os.replace(tmp, path)


def write_catalogue(cat: Catalog, translations_dir: Path = TRANSLATIONS) -> Path:
    """Write ``vi/LC_MESSAGES/messages.po`` and the compiled ``messages.mo`` under
    ``translations_dir``; returns the ``.mo`` path."""
    out = translations_dir / "vi" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    _replace(out / "messages.po", lambda f: write_po(f, cat, width=100))
    _replace(out / "messages.mo", lambda f: write_mo(f, cat))
    return out / "messages.mo"


def compile_fragments(translations_dir: Path = TRANSLATIONS, fragments: Path = FRAGMENTS) -> Path:
    """The package build's step: merge the fragments (refusing conflicts) and compile them
    into ``translations_dir``; returns the ``.mo`` path."""
    cat, _ = catalogue(translations(fragments, strict=True))
    return write_catalogue(cat, translations_dir)
