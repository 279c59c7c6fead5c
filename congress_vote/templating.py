"""Template globals shared by every page."""

from flask import Flask, request
from flask_babel import get_locale, get_translations
from flask_wtf.csrf import generate_csrf
from jinja2.ext import _make_new_gettext, _make_new_ngettext

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


def init_templating(app: Flask) -> None:
    # A global (not only a context variable) so that macros imported without context, such as
    # _macros.csrf(), can call it.
    app.jinja_env.globals["csrf_token_value"] = generate_csrf
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
        return {
            "gettext": _make_new_gettext(translations.ugettext),
            "ngettext": _make_new_ngettext(translations.ungettext),
            "actor": actor,
            "locale": str(get_locale() or "vi"),
            "nav_cid": nav_congress_id() if actor else None,
            "request_path": request.full_path if request else "/",
        }
