"""API routes: poll (see api.md)."""
from . import bp  # noqa: F401
