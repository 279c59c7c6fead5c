"""The public JSON API, version 1 (docs/api.md; the reference is GET /api/v1/openapi.json).
Route modules register on `bp`."""

from . import (  # noqa: E402,F401,E501
    ballot_routes,
    congress_routes,
    counting_routes,
    delegate_routes,
    document_routes,
    kiosk_routes,
    openapi,
    paper_return_routes,
    poll_edit_routes,
    poll_routes,
    projector_routes,
    report_routes,
    seal_routes,
    session_routes,
    user_routes,
)
from .blueprint import bp  # noqa: F401  (create_app registers it)
