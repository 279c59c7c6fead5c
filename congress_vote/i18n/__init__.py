"""Languages (Vietnamese default, English second) and Vietnamese name collation."""
from flask import current_app, request, session

from .collation import name_sort_key, sort_names  # noqa: F401


def select_locale() -> str:
    langs = current_app.config["LANGUAGES"]
    lang = session.get("lang")
    if lang in langs:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"] if request else "vi"
