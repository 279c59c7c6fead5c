"""What validating a choice needs from a poll, and the check itself.

``poll_rules`` gives the rules engine's (PollSpec, Settings) of a poll; once the poll is open they
are cached per app (``app.extensions["congress_vote.spec_cache"]``, never a module global, so two
apps in one process never share an entry), keyed by (poll id, setup_fingerprint). The fingerprint
is fixed when the poll opens and hashes its kind, seats, candidates, items and rules, so a key
can only ever name the setup it was built from; draft polls (no fingerprint, still editable) are
never cached. This saves the candidate and item loads and the rules parsing on every cast.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.services import canonical
from ..errors import ServiceError
from ..ids import bad_id, check_ids
from ..polls.models import Poll
from ..polls.services import settings_of
from ..rules import BadIdError, PollSpec, RulesInputError, Settings, validate_ballot
from ..rules import Ballot as RulesBallot

SPEC_CACHE_KEY = "congress_vote.spec_cache"
SPEC_CACHE_MAX = 512

Rules = tuple[PollSpec, Settings]


class HasKind(Protocol):
    """What `check_choice` needs of a poll when it is given the rules (a row or a ballot sheet
    will do)."""

    @property
    def kind(self) -> str: ...


def _err(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status=status)


def build_spec(poll: Poll) -> PollSpec:
    """The PollSpec of the poll's rows as they are now (never cached: a recount must see any
    change)."""
    return PollSpec(
        kind=poll.kind,
        seats=poll.seats,
        alternate_seats=poll.alternate_seats if poll.kind == "slate" else 0,
        candidate_ids=tuple(c.id for c in poll.candidates),
        item_ids=tuple(i.id for i in poll.items),
    )


def spec_cache() -> dict[tuple[int, str], Rules]:
    """The current app's cache of (PollSpec, Settings) by (poll id, setup_fingerprint)."""
    return current_app.extensions.setdefault(SPEC_CACHE_KEY, {})


def cached_rules(poll_id: int, fingerprint: str | None) -> Rules | None:
    """The cached (PollSpec, Settings) of an opened setup, or None."""
    return spec_cache().get((poll_id, fingerprint)) if fingerprint else None


def poll_rules(poll: Poll) -> Rules:
    """(PollSpec, rules Settings) of the poll; cached per app once the poll is opened."""
    fp = poll.setup_fingerprint
    if fp is None:
        return build_spec(poll), settings_of(poll)
    cache = spec_cache()
    key = (poll.id, fp)
    hit = cache.get(key)
    if hit is None:
        hit = (build_spec(poll), settings_of(poll))
        if len(cache) >= SPEC_CACHE_MAX:
            cache.clear()
        cache[key] = hit
    return hit


def poll_spec(poll: Poll) -> PollSpec:
    """The rules engine's PollSpec of the poll (cached once opened, see poll_rules)."""
    return poll_rules(poll)[0]


_MESSAGES = {
    "overvote": _l("You kept more names than there are seats. Strike out more names."),
    "unknown_candidate": _l("A name on this ballot is not on the list."),
    "duplicate_candidate": _l("A name is kept twice."),
    "all_struck": _l(
        "A ballot striking every name is invalid. Cast it only if you mean to spoil it: "
        "confirm to cast it as an invalid ballot."
    ),
    "no_mark": _l(
        "With a single name, mark exactly one box (agree or disagree); otherwise the ballot "
        "is invalid. Confirm to cast it as an invalid ballot."
    ),
    "bad_mark": _l("Mark each name agree or disagree."),
    "unknown_item": _l("An answer names an item that is not on this ballot."),
    "duplicate_item": _l("An item is answered twice."),
    "bad_answer": _l("Answer each item with for, against or abstain."),
    "wrong_kind": _l("This choice does not fit the kind of vote."),
}


#: Reasons a voter may cast anyway, deliberately spoiling the ballot, with `confirm_invalid`
#: (docs/rules.md, "Ballot validity"): never an over-vote or a malformed ballot.
SPOILABLE = frozenset({"all_struck", "no_mark"})


def parse_choice(kind: str, kept=None, answers=None, marks=None) -> RulesBallot:
    """The rules engine's Ballot of a choice as the API sends it; 400 when malformed, 422
    `bad_id` when an id in it is no id ("²", 1.5, -1...). An election choice is `kept` or, on
    an agree/disagree ballot, `marks` ({candidate_id: "agree"|"disagree"})."""
    if kind != "resolution" and marks is not None:
        if kept is not None:
            raise _err("bad_request", _("Send kept or marks, not both."), 400)
        if not isinstance(marks, dict):
            raise _err(
                "bad_request", _("marks must be an object {candidate_id: agree|disagree}."), 400
            )
        try:
            ballot = RulesBallot.from_dict({"marks": marks})
        except BadIdError:
            raise bad_id("marks") from None
        except RulesInputError as exc:
            raise _err("bad_request", str(exc), 400) from None
        check_ids((c for c, _m in ballot.marks or ()), "marks")
        return ballot
    if kind == "resolution":
        if answers is None:
            answers = {}
        if not isinstance(answers, dict):
            raise _err("bad_request", _("answers must be an object {item_id: answer}."), 400)
        raw: dict[str, Any] = {"answers": answers}
    else:
        if kept is None:
            raise _err("bad_request", _("kept (the list of candidate ids kept) is required."), 400)
        if not isinstance(kept, list):
            raise _err("bad_request", _("kept must be a list of candidate ids."), 400)
        raw = {"kept": kept}
    try:
        ballot = RulesBallot.from_dict(raw)
    except BadIdError:
        raise bad_id("answers" if kind == "resolution" else "kept") from None
    except RulesInputError as exc:
        raise _err("bad_request", str(exc), 400) from None
    check_ids(ballot.kept or (), "kept")
    check_ids((i for i, _a in ballot.answers or ()), "answers")
    return ballot


def canonical_choice(ballot: RulesBallot) -> str:
    """How a valid choice is stored (Ballot.choice)."""
    if ballot.kept is not None:
        return canonical({"kept": sorted(ballot.kept)})
    if ballot.marks is not None:
        return canonical({"marks": {str(c): m for c, m in sorted(ballot.marks)}})
    return canonical({"answers": {str(i): a for i, a in sorted(ballot.answers or ())}})


def check_choice(
    poll: Poll | HasKind,
    kept=None,
    answers=None,
    rules: Rules | None = None,
    marks=None,
    confirm_invalid: bool = False,
) -> str:
    """Validate a choice with the rules engine; answer its canonical JSON or raise 400/422.
    `rules`: the poll's (PollSpec, Settings) when the caller has them (then `poll` only needs
    a `kind`). A ballot the rules make invalid for a reason in SPOILABLE (every name struck on a
    list with a surplus; a single name without exactly one box marked) is refused with 422 and
    that code unless `confirm_invalid`: then it is accepted as cast, and the count rules it
    invalid."""
    ballot = parse_choice(poll.kind, kept, answers, marks)
    if rules is None:
        assert isinstance(poll, Poll)  # without the rules, the poll they are read from
        rules = poll_rules(poll)
    spec, settings = rules
    reason = validate_ballot(spec, settings, ballot)
    if reason is not None and not (confirm_invalid is True and str(reason) in SPOILABLE):
        message = _MESSAGES.get(str(reason)) or _("This ballot is not valid.")
        raise _err(str(reason), str(message), 422)
    return canonical_choice(ballot)
