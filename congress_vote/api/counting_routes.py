"""API routes: counting (see api.md)."""
from . import bp  # noqa: F401
