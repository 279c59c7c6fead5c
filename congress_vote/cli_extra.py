"""Further operator commands, one function per area."""

from flask import Flask


def register(app: Flask) -> None:
    from .counting.cli import register_cli as _counting_cli

    _counting_cli(app)  # recount (counting)
    from .seal.cli import register_cli as _seal_cli

    _seal_cli(app)  # verify-poll (the sealed box's board)
    from .seal.rehearsal import register_cli as _rehearsal_cli

    _rehearsal_cli(app)  # rehearsal (a congress to practise the sealed box's ceremony)
    from .backup import register_cli as _backup_cli

    _backup_cli(app)  # backup, restore (reliability)
    from .demo import register_cli as _demo_cli

    _demo_cli(app)  # demo (congress)
    from .hall.cli import register_cli as _hall_cli

    _hall_cli(app)  # hall (one laptop serves the hall over HTTPS)
