"""Languages (Vietnamese default, English second) and Vietnamese name collation."""
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
    langs = current_app.config["LANGUAGES"]
    lang = session.get("lang")
    if lang in langs:
        return lang
    lang = request.args.get("lang")
    if lang in langs:
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
