"""A plain, non-editable install works on its own (issue 15, part 6): the wheel carries the
templates, the static files, the sample data and the compiled Vietnamese catalogue, and an
SQLite install needs no PostgreSQL driver.

The wheel is built the way `pip install .` builds it (an isolated build with the project's
own backend) from a copy of the source without any compiled catalogue, installed with
`--target` into an empty folder, and run from another folder with that folder first on the
path: nothing of the source tree can be picked up. The dependencies come from the test
environment (`--no-deps`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# the installed app runs on an SQLite file of its own, whatever the run's database
pytestmark = [pytest.mark.slow, pytest.mark.db_independent]

SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["psycopg"] = None  # an SQLite install has no PostgreSQL driver
    sys.modules["psycopg2"] = None
    from pathlib import Path

    import congress_vote
    from congress_vote import create_app

    home = Path(sys.argv[1]).resolve()
    assert Path(congress_vote.__file__).resolve().is_relative_to(home), congress_vote.__file__
    app = create_app({"SECRET_KEY": "k" * 40,
                      "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[2]})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
    print("TEMPLATES", app.jinja_loader.searchpath[0])
    page = app.test_client().get("/login")
    assert page.status_code == 200, page.status_code
    print("LOGIN", page.get_data(as_text=True))
    css = app.test_client().get("/static/css/app.css")
    print("STATIC", css.status_code)
    from congress_vote.demo import SAMPLE
    print("SAMPLE", SAMPLE.is_file())
""")


#: What the build reads; copied to a temporary folder so the build's own build/ folder (pip builds
#: in the source tree) is never shared with the checkout or with a concurrent run.
SOURCES = (
    "pyproject.toml",
    "MANIFEST.in",
    "README.md",
    "babel.cfg",
    "build_backend",
    "congress_vote",
    "templates",
    "static",
    "data",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "translations", "messages.pot")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=skip)
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        cwd=out,
        capture_output=True,
    )
    (found,) = out.glob("congress_vote-*.whl")
    return found


def test_wheel_carries_what_the_app_reads_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "congress_vote/templates/auth/login.html" in names
    assert "congress_vote/templates/print/minutes.html" in names or any(
        n.startswith("congress_vote/templates/print/") for n in names
    )
    assert any(n.startswith("congress_vote/static/css/") for n in names)
    assert "congress_vote/data/delegates-145.csv" in names
    assert "congress_vote/i18n/translations/vi/LC_MESSAGES/messages.mo" in names
    assert any(n.startswith("congress_vote/migrations/versions/") for n in names)


def test_installed_wheel_serves_vietnamese_pages_without_the_source_tree(wheel, tmp_path):
    home = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(home),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "DATABASE_URL", "SECRET_KEY", "PYTHON"))
    }
    env["PYTHONPATH"] = str(home)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home), str(tmp_path / "app.db")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    templates = next(line for line in out.splitlines() if line.startswith("TEMPLATES"))
    assert str(home) in templates and str(ROOT) not in templates
    assert "Đăng nhập" in out  # the compiled catalogue is in the wheel: Vietnamese by default
    assert "Sign in" not in out
    assert "STATIC 200" in out
    assert "SAMPLE True" in out
