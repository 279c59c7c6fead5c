"""API routes: ballot (see api.md)."""
from . import bp  # noqa: F401
