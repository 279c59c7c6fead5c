"""A rehearsal congress (issue 16, part 7): `flask --app wsgi rehearsal --committee NAME …`.

Before the day, the real counting committee practises the ceremony on a congress of its own,
named as a rehearsal ("Đại hội diễn tập"), so nothing of it mixes with the real one: a dozen
made-up delegates, all checked in, and one secret election of two seats whose counting committee
is the named staff users (counters). Each member then prints a key card *for the rehearsal
congress* on their account page (a practice card: the real congress's cards are printed for
it, separately), the chair opens the poll (sealed for those cards), the delegates vote at a
kiosk, the chair closes, the members open the box with their opening codes and sign with their
signing codes. Refuses a name that is not a counter; creates a new rehearsal each time.
"""

from __future__ import annotations

import secrets

import click
from flask import Flask
from sqlalchemy import func, select

from ..extensions import db
from ..i18n.collation import name_sort_key

REHEARSAL_NAME = "Đại hội diễn tập (thử nghiệm hòm phiếu niêm phong)"
_DELEGATES = 12


def create_rehearsal(committee: list[str]) -> dict:
    """The rehearsal congress and its poll (one transaction); answers their ids."""
    from ..auth.models import User
    from ..congress.checkin import check_in_delegate
    from ..congress.models import Congress, Delegate
    from ..congress.setup import create_congress
    from ..errors import ServiceError
    from ..polls.services import create_poll

    users = []
    for name in committee:
        user = db.session.scalar(select(User).where(User.username == name))
        if user is None or not user.has_role("counter"):
            raise ServiceError(
                "not_a_counter", f"{name}: no staff user with the counter role", status=422
            )
        users.append(user)
    admin = db.session.scalar(select(User).where(User.roles.contains("admin")).limit(1))
    n = db.session.scalar(
        select(func.count()).select_from(Congress).where(Congress.name.like("Đại hội diễn tập%"))
    )
    congress = create_congress(
        {
            "name": REHEARSAL_NAME if not n else f"{REHEARSAL_NAME} — lần {n + 1}",
            "organisation": "Diễn tập",
            "term": "Diễn tập",
            "venue": "Phòng họp Ban kiểm phiếu",
            "kind": "members",
        },
        actor=admin,
    )
    for k in range(_DELEGATES):
        d = Delegate(
            congress_id=congress.id,
            code=f"DT{k + 1:02d}",
            full_name=f"Đại biểu Diễn tập {k + 1:02d}",
            sort_key=name_sort_key(f"Đại biểu Diễn tập {k + 1:02d}"),
            membership="full",
            status="absent",
            card_nonce=secrets.token_hex(8),
            card_hash=secrets.token_hex(32),  # no card is printed for a rehearsal delegate
        )
        db.session.add(d)
        db.session.flush()
        check_in_delegate(d, actor=admin)
    poll = create_poll(
        congress,
        {
            "kind": "committee",
            "secrecy": "secret",
            "seats": 2,
            "title": "Bầu thử (diễn tập): mở hòm phiếu niêm phong và ký kết quả",
            "candidates": [
                {"full_name": "Ứng viên Diễn tập Một"},
                {"full_name": "Ứng viên Diễn tập Hai"},
                {"full_name": "Ứng viên Diễn tập Ba"},
            ],
            "counting_committee": [u.id for u in users],
            "rules": {"preset": "vn-party"},
        },
        actor=admin,
    )
    db.session.commit()
    return {"congress_id": congress.id, "poll_id": poll.id}


def register_cli(app: Flask) -> None:
    @app.cli.command("rehearsal")
    @click.option(
        "--committee",
        "committee",
        multiple=True,
        required=True,
        help="username of a counting committee member (a counter); repeat for each",
    )
    def rehearsal(committee):
        """A rehearsal congress for the counting committee to practise the sealed box."""
        from ..errors import ServiceError

        try:
            made = create_rehearsal(list(committee))
        except ServiceError as err:
            db.session.rollback()
            raise click.UsageError(err.message) from err
        base = app.config.get("PUBLIC_BASE_URL", "")
        click.echo(f"Rehearsal congress {made['congress_id']}, poll {made['poll_id']}.")
        click.echo(
            "1. Each member prints a practice key card for this congress on their account page "
            f"({base}/account). 2. The chair opens the poll on the console. 3. Issue slips, vote "
            "at a kiosk, close. 4. The members open the box on the counting page with their "
            "opening codes, then each signs with their signing code."
        )
