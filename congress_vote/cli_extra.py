"""Further operator commands, one function per area."""
from flask import Flask


def register(app: Flask) -> None:
    pass
