"""Template globals shared by every page."""
from flask import Flask, request, url_for
from werkzeug.routing import BuildError
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from .security import current_actor


def init_templating(app: Flask) -> None:
    def url_or_none(endpoint: str, **values):
        """A link to a page that may not exist in every build of the app (optional areas)."""
        try:
            return url_for(endpoint, **values)
        except BuildError:
            return None

    app.jinja_env.globals["url_or_none"] = url_or_none
    # A global (not only a context variable) so that macros imported without context, such as
    # _macros.csrf(), can call it.
    app.jinja_env.globals["csrf_token_value"] = generate_csrf

    @app.context_processor
    def _globals():
        return {"actor": current_actor(), "locale": str(get_locale() or "vi"),
                "csrf_token_value": generate_csrf, "request_path": request.full_path
                if request else "/"}
