"""`flask --app wsgi demo`: a demo congress from the sample delegate list.

Creates the staff users admin, registrar, counter1..3, chair and observer (one shared password:
--password or DEMO_PASSWORD, at least 12 characters, else a fresh random one, printed once), a
congress modelled on the real one, imports data/delegates-145.csv, excuses 2 full members and
checks in 130 delegates (deterministic: by list code). Refuses to run twice: if the demo
congress exists, it says so and changes nothing.
"""

from __future__ import annotations

import os
import secrets

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .paths import DATA

DEMO_NAME = "Đại hội Đảng bộ Sở Giáo dục và Đào tạo lần thứ XI, nhiệm kỳ 2025–2030"
SAMPLE = DATA / "delegates-145.csv"
DEMO_USERS = {
    "admin": ["admin"],
    "registrar": ["registrar"],
    "counter1": ["counter"],
    "counter2": ["counter"],
    "counter3": ["counter"],
    "chair": ["chair"],
    "observer": ["observer"],
}
# Lower-case letters and digits without look-alikes (l/1, o/0): easy to type from the screen.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
MIN_DEMO_PASSWORD = 12
CHECKED_IN = 130
EXCUSED = (("Ốm, có đơn xin phép"), ("Đi công tác theo quyết định của Sở"))


def random_password() -> str:
    """16 random characters in groups of four (80 bits), e.g. `k3mz-8qpa-w2rt-7hxe`."""
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or random_password()


def create_demo(password: str) -> dict:
    """Build the demo; returns {congress_id, users, password, created}. Commits."""
    from .auth.models import User
    from .auth.services import create_user
    from .congress.checkin import check_in_delegate, set_attendance
    from .congress.importing import import_delegates
    from .congress.models import Congress, Delegate
    from .congress.setup import create_congress

    existing = db.session.scalar(select(Congress).where(Congress.name == DEMO_NAME))
    if existing is not None:
        return {"congress_id": existing.id, "created": False, "users": [], "password": None}
    users = {}
    for name, roles in DEMO_USERS.items():
        user = db.session.scalar(select(User).where(User.username == name))
        if user is None:
            user = create_user(name, password, roles, full_name=name.capitalize())
        users[name] = user
    admin, registrar = users["admin"], users["registrar"]
    congress = create_congress(
        {
            "name": DEMO_NAME,
            "organisation": "Đảng bộ Sở Giáo dục và Đào tạo",
            "term": "2025–2030",
            "venue": "Hội trường Sở Giáo dục và Đào tạo",
            "starts_on": "2025-06-20",
            "ends_on": "2025-06-21",
            "kind": "members",
            "quorum_fraction": "2/3",
        },
        actor=admin,
    )
    import_delegates(congress, SAMPLE.read_bytes(), filename=SAMPLE.name, actor=admin)
    delegates = list(
        db.session.scalars(
            select(Delegate).where(Delegate.congress_id == congress.id).order_by(Delegate.code)
        )
    )
    full = [d for d in delegates if d.can_vote]
    excused = full[-len(EXCUSED) :]
    for d, reason in zip(excused, EXCUSED, strict=True):
        set_attendance(d, "excused", reason, actor=registrar)
    others = [d for d in delegates if d not in excused]
    for d in others[:CHECKED_IN]:
        check_in_delegate(d, actor=registrar)
    _demo_polls(congress, users)
    cards = _demo_key_cards(congress, users)
    db.session.commit()
    return {
        "congress_id": congress.id,
        "created": True,
        "users": list(users),
        "password": password,
        "key_cards": cards,
    }


def _demo_key_cards(congress, users) -> dict[str, dict[str, str]]:
    """The demo counting committee's key cards, so the demo's secret polls can be opened,
    counted and signed at once: {username: {opening, signing}} (the codes are shown once, by the
    command; a real member prints their own card on their account page instead)."""
    from .seal.codes import format_key_code
    from .seal.keycards import issue_key_card

    out = {}
    for name in ("counter1", "counter2", "counter3"):
        _card, secrets = issue_key_card(congress, users[name])
        out[name] = {
            "opening": format_key_code(secrets.opening_code),
            "signing": format_key_code(secrets.signing_code),
        }
    return out


def _demo_polls(congress, users) -> None:
    """The congress's agenda, as drafts for the chair to open: the executive committee election
    (9 seats, 11 candidates), the delegation to the higher congress (7 official + 1 alternate,
    9 candidates), and the resolution (an open vote, by show of hands or named tablet votes).
    Candidates are full members on the list (deterministic: by list code, skipping the
    counting committee's namesakes). Called inside create_demo's transaction."""
    from .congress.models import Delegate
    from .polls.services import create_poll

    admin = users["admin"]
    committee = [users["counter1"].id, users["counter2"].id, users["counter3"].id]
    voters = list(
        db.session.scalars(
            select(Delegate)
            .where(
                Delegate.congress_id == congress.id,
                Delegate.membership == "full",
                Delegate.status == "present",
            )
            .order_by(Delegate.code)
        )
    )

    def slate(start: int, n: int) -> list[dict]:
        return [
            {"full_name": d.full_name, "position": d.position or "", "delegate_id": d.id}
            for d in voters[start : start + n]
        ]

    create_poll(
        congress,
        {
            "kind": "committee",
            "secrecy": "secret",
            "seats": 9,
            "alternate_seats": 0,
            "title": "Bầu Ban Chấp hành Đảng bộ Sở Giáo dục và Đào tạo nhiệm kỳ 2025–2030",
            "candidates": slate(0, 11),
            "counting_committee": committee,
            "rules": {"preset": "vn-party"},
        },
        actor=admin,
    )
    create_poll(
        congress,
        {
            "kind": "slate",
            "secrecy": "secret",
            "seats": 7,
            "alternate_seats": 1,
            "title": "Bầu đại biểu dự Đại hội Đảng bộ cấp trên (7 chính thức, 1 dự khuyết)",
            "candidates": slate(11, 9),
            "counting_committee": committee,
            "rules": {"preset": "vn-party"},
        },
        actor=admin,
    )
    create_poll(
        congress,
        {
            "kind": "resolution",
            "secrecy": "open",
            "seats": 0,
            "title": "Biểu quyết thông qua Nghị quyết Đại hội",
            "items": [
                {"text": "Thông qua Báo cáo chính trị của Ban Chấp hành nhiệm kỳ 2020–2025"},
                {"text": "Thông qua Nghị quyết Đại hội nhiệm kỳ 2025–2030"},
            ],
            "counting_committee": committee,
            "rules": {"preset": "vn-party"},
        },
        actor=admin,
    )


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option(
        "--password",
        default=None,
        help="password of every demo user (default: $DEMO_PASSWORD or a generated one)",
    )
    def demo(password):
        """A demo congress from the sample delegate list, with demo staff users."""
        from flask_migrate import upgrade

        from .audit.services import ensure_audit_head

        password = password or demo_password()
        if len(password) < MIN_DEMO_PASSWORD:
            raise click.UsageError(
                f"the demo password needs at least {MIN_DEMO_PASSWORD} characters"
            )
        upgrade()
        ensure_audit_head()
        result = create_demo(password)
        if not result["created"]:
            click.echo(
                f"The demo congress exists already (id {result['congress_id']}); "
                "nothing was changed."
            )
            return
        base = app.config["PUBLIC_BASE_URL"]
        click.echo(f"Demo congress created (id {result['congress_id']}): {DEMO_NAME}")
        click.echo(f"Sign in at {base}/login as one of: {', '.join(result['users'])}")
        click.echo(f"Password for every demo user: {result['password']}")
        click.echo(
            "Key cards of the demo counting committee (shown only now; a real member prints "
            "their own card on their account page):"
        )
        for name, card in result["key_cards"].items():
            click.echo(f"  {name}: opening code {card['opening']}")
            click.echo(f"  {' ' * len(name)}  signing code {card['signing']}")
