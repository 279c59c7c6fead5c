"""The package's build backend: setuptools' own, with a ``build_py`` that ships what the app
needs at run time inside the package.

The source tree keeps ``templates/``, ``static/`` and ``data/`` at the top level (the design
card's layout). A wheel carries them as ``congress_vote/templates``, ``congress_vote/static``
and ``congress_vote/data``, plus the Vietnamese catalogue compiled from the fragments
(``congress_vote/i18n/vi/*.po``), so a plain ``pip install .`` serves Vietnamese pages with no
setup script. ``congress_vote/paths.py`` finds the folders in either place.

An editable install (``pip install -e .``) copies nothing: the app reads the source tree's
folders, and the catalogue is compiled in place (``congress_vote/i18n/translations``).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools.build_meta import *  # the PEP 517 hooks, unchanged (F403 ignored)
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("templates", "static", "data")


def _i18n_build():
    """congress_vote/i18n/build.py, loaded by path: importing the package would import Flask,
    which the build environment does not have."""
    path = ROOT / "congress_vote" / "i18n" / "build.py"
    spec = importlib.util.spec_from_file_location("congress_vote_i18n_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPy(build_py):
    """``build_py`` plus the top-level folders and the compiled catalogue."""

    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        package = Path(self.build_lib) / "congress_vote"
        if not editable and package.exists():
            # pip builds in the source tree (build/lib): a module deleted since the last build
            # must not ship from there
            shutil.rmtree(package)
        super().run()
        i18n = _i18n_build()
        if editable:
            i18n.compile_fragments()
            return
        for name in SHIPPED:
            target = package / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(
                ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        i18n.compile_fragments(package / "i18n" / "translations")
