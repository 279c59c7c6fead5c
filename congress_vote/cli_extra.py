"""Further operator commands, one function per area."""
from flask import Flask


def register(app: Flask) -> None:
    from .backup import register_cli as _backup_cli
    _backup_cli(app)  # backup, restore (reliability)
