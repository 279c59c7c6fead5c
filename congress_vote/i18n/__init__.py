"""Languages (Vietnamese default, English second) and Vietnamese name collation."""

from collections.abc import Sequence

from flask import current_app, has_request_context, request, session

from .collation import name_sort_key, sort_names  # noqa: F401


def select_locale() -> str:
    """The language of this request: the session's choice (/lang/<code>), then `?lang=`, then
    (JSON API only) the best match of Accept-Language among the supported languages, then
    Vietnamese.

    Outside a request (CLI commands, scripts) the messages stay in the source language (English),
    as operator output and logs; every page, API answer and printed document is made inside a
    request and follows the rules above."""
    if not has_request_context():
        return "en"
    langs: Sequence[str] = current_app.config["LANGUAGES"]
    for lang in (session.get("lang"), request.args.get("lang")):
        if isinstance(lang, str) and lang in langs:
            return lang
    # Accept-Language is honoured for API clients only: every browser sends one, and a hall
    # tablet or laptop with an English system (Chromium's default is en-US) must still show the
    # pages - and the PDFs its links open, some of which live under /api/ - in Vietnamese unless
    # someone picks English with the language switch. A browser opening a link names text/html.
    browser = any(value == "text/html" for value, _q in request.accept_mimetypes)
    if request.path.startswith("/api/") and not browser and request.accept_languages:
        best = request.accept_languages.best_match(langs)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class _WTFormsTranslations:
    """WTForms' own messages ("This field is required.") from our catalogue: WTForms ships no
    Vietnamese, so Flask-WTF would show them in English on a Vietnamese page."""

    def gettext(self, string):
        from flask_babel import get_translations

        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        from flask_babel import get_translations

        return get_translations().ungettext(singular, plural, n)


def _use_catalogue_for_wtforms() -> None:
    try:
        import flask_wtf.form
    except ImportError:  # pragma: no cover
        return
    if hasattr(flask_wtf.form, "translations"):
        flask_wtf.form.translations = _WTFormsTranslations()


_use_catalogue_for_wtforms()


def _wtforms_messages():  # pragma: no cover - never called: lists them for the extractor
    from flask_babel import gettext as _
    from flask_babel import ngettext

    _("This field is required.")
    _("Invalid input.")
    _("Not a valid choice.")
    _("Not a valid date value.")
    _("Not a valid integer value.")
    _("Number must be at least %(min)s.")
    _("Number must be at most %(max)s.")
    _("Number must be between %(min)s and %(max)s.")
    _("Field must be between %(min)d and %(max)d characters long.")
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
