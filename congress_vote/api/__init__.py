"""The public JSON API, version 1 (docs/api.md; the reference is GET /api/v1/openapi.json).
Route modules register on `bp`."""
from .blueprint import bp  # noqa: F401  (create_app registers it)
from . import session_routes, user_routes, congress_routes, kiosk_routes, poll_routes, ballot_routes, counting_routes, paper_return_routes, report_routes, openapi  # noqa: E402,F401,E501
