"""API routes: report (see api.md)."""
from . import bp  # noqa: F401
