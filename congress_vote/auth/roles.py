"""The staff roles, and how an API token is stored (its SHA-256, never the token)."""

from __future__ import annotations

import hashlib

ROLES = ("admin", "registrar", "counter", "chair", "observer")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
