"""Packaging habits (issue 15, part 6): every package the app imports is declared in
pyproject.toml, and an SQLite install runs without PostgreSQL's driver (the `[postgres]` extra)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

# declared dependencies; its app runs on an SQLite file of its own whatever the run's database
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "congress_vote"


def _requirement_names(specs: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", s, maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def _imported_top_level(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts and "versions" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_imported_package_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"])
    extras = {
        name: _requirement_names(specs) for name, specs in project["optional-dependencies"].items()
    }
    distributions = packages_distributions()
    missing = []
    for module in sorted(_imported_top_level(PACKAGE)):
        if module in sys.stdlib_module_names or module == "congress_vote":
            continue
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not dists:
            missing.append(f"{module} (not installed)")
        elif not dists & declared and not any(dists & names for names in extras.values()):
            missing.append(f"{module} ({', '.join(sorted(dists))})")
    assert not missing, "imported but not declared in pyproject.toml: " + ", ".join(missing)


def test_postgres_driver_is_an_extra_not_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "psycopg" not in _requirement_names(project["dependencies"])
    assert "psycopg" in _requirement_names(project["optional-dependencies"]["postgres"])
    assert "psycopg" in _requirement_names(project["optional-dependencies"]["test"])


def test_sqlite_app_runs_without_psycopg(tmp_path):
    """With psycopg made unimportable, every module of the app imports and an SQLite app
    serves a page: nothing imports the driver at module level."""
    script = f"""
import sys, pkgutil, importlib
sys.modules["psycopg"] = None
sys.modules["psycopg2"] = None
import congress_vote
for info in pkgutil.walk_packages(congress_vote.__path__, "congress_vote."):
    if ".migrations" in info.name or info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
from congress_vote import create_app
app = create_app({{"SECRET_KEY": "k" * 40,
                  "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path / "x.db"}"}})
with app.app_context():
    from flask_migrate import upgrade
    upgrade()
assert app.test_client().get("/login").status_code == 200
print("ok")
"""
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0 and "ok" in run.stdout, run.stderr[-3000:]
