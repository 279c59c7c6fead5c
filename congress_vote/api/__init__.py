"""The public JSON API, version 1 (see shared docs api.md). Route modules register on `bp`."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import session_routes, user_routes, congress_routes, kiosk_routes, poll_routes, ballot_routes, counting_routes, paper_return_routes, report_routes, openapi  # noqa: E402,F401,E501
