"""The kiosk's voting steps, one call each: enter a code, show a ballot, review it, cast it.

Each step resolves what it needs (the kiosk check, the code or the unlocked card, the open poll,
its rules) and answers what the page shows — a `CodeEntry` or a `BallotPage` — so a view parses
the form, makes one call and renders. The writes themselves are `services.cast_ballot` and
`services.cast_named_vote`, the same the API calls; a step that casts commits (or rolls back a
refused choice, leaving the token unused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from .. import codes
from ..congress import kiosks
from ..congress.models import Congress, Delegate
from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import ACCEPTS_BALLOTS
from .services import (
    ballot_row,
    cast_ballot,
    cast_named_vote,
    named_vote_exists,
    open_ballot,
    open_named_polls,
    resolve_code,
    voter_by_card,
)
from .sheet import Sheet, ballot_sheet, sheet_of
from .spec import SPOILABLE, check_choice


@dataclass(frozen=True)
class Marks:
    """What a ballot form posted: the struck candidate ids (`struck`) and the other fields
    (`c<id>` = agree/disagree, `i<id>` = for/against/abstain)."""

    struck: frozenset[str] = frozenset()
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BallotPage:
    """What a ballot page shows. `stage`: "choose" (the ballot, with `error` after a refused
    choice), "review" (the confirmation), "cast" (the receipt) or "problem" (a cast refused for
    another reason than the choice: `error`, `message`). `poll` is the poll's ballot sheet."""

    stage: str
    poll: Sheet
    kept: frozenset[int] = frozenset()
    answers: Mapping[str, str] = field(default_factory=dict)
    marks: Mapping[str, str] = field(default_factory=dict)  # agree/disagree ballots: id -> mark
    choice: dict | None = None
    error: str | None = None
    message: str | None = None
    receipt: str | None = None
    status: int = 200
    delegate: Delegate | None = None
    warning: str | None = None  # review: the choice is one the rules count invalid (SPOILABLE)
    ask_invalid: bool = False  # review: cast refused without confirm_invalid, asked again

    def context(self) -> dict:
        """The template variables of the page."""
        return {
            "poll": self.poll,
            "limit": self.poll.limit,
            "agree": self.poll.agree,
            "kept": self.kept,
            "answers": self.answers,
            "marks": self.marks,
            "choice": self.choice,
            "error": self.error,
            "receipt": self.receipt,
            "delegate": self.delegate,
            "named": self.delegate is not None,
            "warning": self.warning,
            "ask_invalid": self.ask_invalid,
        }


def choice_of(sheet: Sheet, marks: Marks) -> dict:
    """{"kept": [...]}, {"marks": {...}} (agree/disagree) or {"answers": {...}} from the
    posted form (strike / agree / answers), with the ids of the poll's sheet."""
    spec = sheet.rules[0]
    if spec.kind == "resolution":
        answers = {}
        for item_id in spec.item_ids:
            value = marks.fields.get(f"i{item_id}")
            if value in ("for", "against", "abstain"):
                answers[str(item_id)] = value
        return {"answers": answers}
    if sheet.agree:  # a name with no valid mark is left out (issue 18: counts for no one)
        return {
            "marks": {
                str(c): v
                for c in spec.candidate_ids
                if (v := marks.fields.get(f"c{c}")) in ("agree", "disagree")
            }
        }
    return {"kept": [c for c in spec.candidate_ids if str(c) not in marks.struck]}


def _page(sheet: Sheet, stage: str, choice: dict | None = None, **extra) -> BallotPage:
    marked = (choice or {}).get("marks") or {}
    kept = (choice or {}).get("kept") or (
        [int(c) for c, v in marked.items() if v == "agree"]
        if choice
        else sheet.rules[0].candidate_ids
    )
    return BallotPage(
        stage=stage,
        poll=sheet,
        kept=frozenset(kept),
        answers=(choice or {}).get("answers") or {},
        marks=marked,
        choice=choice,
        **extra,
    )


def _step(
    poll: Sheet, step: str, marks: Marks | None, cast: Callable[[dict], str], **extra
) -> BallotPage:
    """The shared choose → review → cast steps of a ballot (token or named)."""
    if marks is None:
        return _page(poll, "choose", **extra)
    choice = choice_of(poll, marks)
    if step == "edit":
        return _page(poll, "choose", choice, **extra)
    warning = None  # a choice the voter may cast knowing it is invalid (spec.SPOILABLE)
    try:
        check_choice(poll, rules=poll.rules, **choice)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        if exc.code not in SPOILABLE:
            return _page(poll, "choose", choice, error=exc.code, status=422, **extra)
        warning = exc.code
    if step != "cast":
        return _page(poll, "review", choice, warning=warning, **extra)
    confirmed = marks.fields.get("confirm_invalid") == "yes"
    try:
        receipt = cast({**choice, "confirm_invalid": True} if confirmed else choice)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 422 and exc.code in SPOILABLE:  # ask a second time (issue 18)
            return _page(poll, "review", choice, warning=exc.code, ask_invalid=True, **extra)
        if exc.status == 422:
            return _page(poll, "choose", choice, error=exc.code, status=422, **extra)
        return BallotPage(
            "problem", poll, error=exc.code, message=exc.message, status=exc.status, **extra
        )
    db.session.commit()
    return BallotPage("cast", poll, receipt=receipt, **extra)


# ---- the ballot of a token (the QR code's page) ---------------------------------------------

_CONGRESSES = Congress.__table__
# Built once, of tables only (no ORM entity: no ORM compile step on each page): what a ballot
# page and its cast need to know of the code (services.ballot_row), with the kiosk check.
_BALLOT_ROW = ballot_row(
    _CONGRESSES.c.kiosk_only,
    kiosks.kiosk_of_column(_CONGRESSES.c.id).label("is_kiosk"),
    joins=[(_CONGRESSES, _CONGRESSES.c.id == Poll.__table__.c.congress_id)],
)


def ballot_of_code(code: str, kiosk_cid: int | None):
    """The row of the ballot `code` (`services.ballot_row` with the kiosk check) when it can
    be voted from this device now; otherwise the refusal, raised: KioskRequired first, then
    `services.open_ballot`'s, in its order. `kiosk_cid`: the congress of this kiosk (None:
    any device the congress allows)."""
    norm = resolve_code(code)
    for _read in range(2):
        row = None
        if norm is not None:
            row = db.session.execute(
                _BALLOT_ROW, {"h": codes.code_hash(norm), **kiosks.kiosk_params()}
            ).first()
        if row is not None:
            if row.kiosk_only and not row.is_kiosk:
                raise kiosks.KioskRequired(row.congress_id)
            if (
                row.state == "unused"
                and row.status in ACCEPTS_BALLOTS
                and kiosk_cid in (None, row.congress_id)
                and row.batch_kind != "paper"
            ):
                return row
        kiosks.require_kiosk_for_ballot(code)
        open_ballot(code, congress_id=kiosk_cid)  # raises the refusal
        # none: it changed between the two reads (its poll opened just now); read it again
    raise ServiceError("try_again", _("Please try again."), status=409)


def ballot_step(code: str, kiosk_cid: int | None, step: str, marks: Marks | None) -> BallotPage:
    """One step of the ballot `code` at the kiosk of congress `kiosk_cid` (None: any device
    the congress allows): show it (`marks` None), "edit", "review" or "cast" the posted marks.
    Raises KioskRequired (403), or ServiceError when the ballot cannot be voted (unknown, used,
    poll not open, another congress, paper)."""
    row = ballot_of_code(code, kiosk_cid)
    poll = ballot_sheet(row.poll_id, row.setup_fingerprint)

    def cast(choice: dict) -> str:
        return cast_ballot(code, congress_id=kiosk_cid, row=row, **choice)

    return _step(poll, step, marks, cast)


# ---- a named ballot, unlocked at a kiosk by a delegate's card --------------------------------


class ScanCardFirst(ServiceError):
    """403: no card unlocked a named ballot at this kiosk (or it expired)."""

    def __init__(self, congress: Congress):
        super().__init__("scan_card_first", _("Scan your delegate card first."), status=403)
        self.congress = congress


def named_step(
    cid: int,
    pid: int,
    delegate_id: int | None,
    step: str,
    marks: Marks | None,
    nonce: str | None = None,
) -> BallotPage:
    """One step of the named ballot of poll `pid` at a kiosk of congress `cid` for the delegate
    whose card unlocked it (`delegate_id`, None when none did: ScanCardFirst). `nonce` is the
    kiosk session's (drawn when the card unlocked it): the vote cast in it gets the receipt it
    names, so a cast sent again from the same session after its answer was lost is answered
    409 ballot_used with that receipt (`extra["receipt"]`); any other session gets none."""
    from .receipts import kiosk_session_receipt
    from .services import named_vote_receipt

    congress = get_congress(cid)
    kiosks.require_kiosk(cid)
    poll = db.session.get(Poll, pid)
    if poll is None or poll.congress_id != cid:
        raise ServiceError("unknown_poll", _("No such poll."), status=404)
    if delegate_id is None:
        raise ScanCardFirst(congress)
    delegate = db.session.get_one(Delegate, delegate_id)
    if poll.status != "open" or poll.secrecy != "open":
        raise ServiceError("poll_not_open", _("This vote is not open."), status=409)
    mine = kiosk_session_receipt(nonce, poll.id) if nonce else None
    stored = named_vote_receipt(poll, delegate.id)
    if stored is not None:
        again = {"receipt": stored} if step == "cast" and mine == stored else {}
        raise ServiceError(
            "ballot_used", _("You have already voted in this poll."), status=409, **again
        )

    def cast(choice: dict) -> str:
        return cast_named_vote(poll, delegate, receipt=mine, **choice)

    return _step(sheet_of(poll), step, marks, cast, delegate=delegate)


# ---- the kiosk's start page and its code field ---------------------------------------------


@dataclass(frozen=True)
class KioskStart:
    congress: Congress
    enrol: bool  # show the form that enrols this device
    can_vote: bool
    is_kiosk: bool


def kiosk_start(cid: int, may_enrol: bool) -> KioskStart:
    """The kiosk's start page: a staff member who `may_enrol` on a device that is not yet a kiosk
    of the congress sees the enrolment form; anyone else needs a kiosk (KioskRequired)."""
    congress = get_congress(cid)
    is_kiosk = kiosks.is_kiosk_of(cid)
    enrol = may_enrol and not is_kiosk
    can_vote = not kiosks.kiosk_needed(cid)
    if not (enrol or can_vote):
        raise kiosks.KioskRequired(cid)
    return KioskStart(congress, enrol, can_vote, is_kiosk)


@dataclass(frozen=True)
class CodeEntry:
    """Where a code typed or scanned at the kiosk leads: the ballot page of `ballot`, the named
    ballots `polls` of `delegate`, or back to the kiosk with `error`."""

    congress: Congress
    ballot: str | None = None
    delegate: Delegate | None = None
    polls: tuple[Poll, ...] = ()
    error: ServiceError | None = None


def enter_code(cid: int, text: str) -> CodeEntry:
    """A ballot code (→ its ballot) or a delegate card (→ the open named polls they have not
    voted in yet). Raises for an unknown congress (404) and a device that is not its kiosk."""
    congress = get_congress(cid)
    kiosks.require_kiosk(cid)
    code = resolve_code(text)
    try:
        if code is not None or not text.upper().startswith("CV1:C:"):
            try:
                open_ballot(text, congress_id=cid)
                return CodeEntry(congress, ballot=code)
            except ServiceError as exc:
                if exc.code != "unknown_ballot" or not open_named_polls(cid):
                    raise
        # not a ballot: a delegate's card for an open (named) poll?
        polls = open_named_polls(cid)
        if not polls:
            raise ServiceError(
                "unknown_ballot", _("This code is not a ballot — check the characters."), status=404
            )
        delegate = voter_by_card(congress, text)
        pending = tuple(p for p in polls if not named_vote_exists(p, delegate.id))
        if not pending:
            raise ServiceError(
                "ballot_used", _("You have already voted in every open vote."), status=409
            )
        return CodeEntry(congress, delegate=delegate, polls=pending)
    except ServiceError as exc:
        db.session.rollback()
        return CodeEntry(congress, error=exc)
