"""API routes: congress (see api.md)."""
from . import bp  # noqa: F401
