"""Where the app's files are: inside the installed package (a wheel carries
``congress_vote/templates``, ``static`` and ``data``, see build_backend/congress_build.py) or,
in a source checkout and an editable install, the top-level folders of the source tree."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


TEMPLATES = _shipped("templates")
STATIC = _shipped("static")
DATA = _shipped("data")
