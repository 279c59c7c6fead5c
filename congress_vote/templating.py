"""Template globals shared by every page."""

import hashlib
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale, get_translations
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from jinja2.ext import _make_new_ngettext
from markupsafe import Markup

from .extensions import db
from .i18n.formats import FILTERS
from .i18n.wording import PRESET_KEYS, check_text, outcome_notes, preset_label
from .polls.namesakes import candidate_detail, candidate_label
from .security import current_actor


def nav_congress_id() -> int | None:
    """The congress a staff page belongs to (its `cid`, or the congress of its poll `pid`), so
    the navigation bar can offer that congress's pages everywhere."""
    args = request.view_args or {}
    if isinstance(args.get("cid"), int):
        return args["cid"]
    if isinstance(args.get("pid"), int):
        from .polls.models import Poll

        return db.session.scalar(db.select(Poll.congress_id).where(Poll.id == args["pid"]))
    return None


def page_gettext(ugettext):
    """Jinja's new-style gettext (the i18n extension's: escaped under autoescape, then
    %-formatted with the keyword arguments) bound to one page's catalogue, as the page's `_` and
    `gettext`: one call per string, where the extension's `_` resolves `gettext` and calls it,
    which calls the catalogue (a ballot page shows twenty strings and more)."""

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables):
        rv = ugettext(string)
        if eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return gettext


STATIC_URLS_KEY = "congress_vote.static_urls"
# A versioned asset URL (`?v=` the file's content hash) never changes content: browsers may keep
# it (a tablet then loads a ballot page's CSS and scripts once, not on every page).
VERSIONED_MAX_AGE = 365 * 24 * 3600


def _version(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of SHA-256 of the static file, None when it is not one."""
    folder = app.static_folder
    if folder is None:
        return None
    try:
        data = (Path(folder) / filename).read_bytes()
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(filename: str) -> str:
    """url_for('static', filename=...) with `v=` the file's content hash, built once per app,
    script root and file: a page links three or four assets, and in a request the URL depends
    on nothing else (no URL defaults apply to static files). A new release's files get new
    URLs, so browsers may cache these for good (`_cache_versioned_assets`)."""
    urls: dict = current_app.extensions.setdefault(STATIC_URLS_KEY, {})
    key = (request.script_root if has_request_context() else None, filename)
    url = urls.get(key)
    if url is None:
        version = _version(current_app, filename)
        url = (
            url_for("static", filename=filename, v=version)
            if version
            else url_for("static", filename=filename)
        )
        if key[0] is not None:  # outside a request the URL may depend on SERVER_NAME
            urls[key] = url
    return url


def init_templating(app: Flask) -> None:
    # A global (not only a context variable) so that macros imported without context, such as
    # _macros.csrf(), can call it.
    app.jinja_env.globals["csrf_token_value"] = generate_csrf
    app.jinja_env.globals["static_url"] = static_url

    @app.after_request
    def _cache_versioned_assets(resp):
        if request.endpoint == "static" and request.args.get("v") and resp.status_code == 200:
            resp.cache_control.no_cache = None  # send_file's "revalidate every time"
            resp.cache_control.public = True
            resp.cache_control.max_age = VERSIONED_MAX_AGE
            resp.cache_control.immutable = True
        return resp

    # A candidate's name, with the details that tell a namesake apart (polls/namesakes.py).
    app.jinja_env.filters["who"] = candidate_label
    app.jinja_env.filters["namesake"] = candidate_detail
    # Vietnamese numbers, percentages, dates and times (i18n/formats.py): pages and PDFs alike.
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(
        check_text=check_text,
        outcome_notes=outcome_notes,
        preset_label=preset_label,
        preset_keys=PRESET_KEYS,
    )

    @app.context_processor
    def _globals():
        actor = current_actor()
        # The page's translations, looked up once per page: Flask-Babel's gettext globals look
        # them up again for every string (twenty and more on a ballot page). Macros imported
        # without context still use those globals, with the same catalogue.
        translations = get_translations()
        gettext = page_gettext(translations.ugettext)
        return {
            "_": gettext,
            "gettext": gettext,
            "ngettext": _make_new_ngettext(translations.ungettext),
            "actor": actor,
            "locale": str(get_locale() or "vi"),
            "nav_cid": nav_congress_id() if actor else None,
            "request_path": request.full_path if request else "/",
        }
