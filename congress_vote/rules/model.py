"""Plain input data of a count: the poll, the attendance, the ballots, a show of hands.

All classes are frozen dataclasses built from plain values; ``from_dict``/``to_dict`` convert
to and from JSON-safe dicts (used by the recount export).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import BadIdError, RulesInputError

KINDS: tuple[str, ...] = ("committee", "slate", "resolution")
ANSWERS: tuple[str, ...] = ("for", "against", "abstain")
#: The marks of a name on an agree/disagree ballot (a list without a surplus); a name left out
#: has no valid mark (neither box, or on paper both).
MARKS: tuple[str, ...] = ("agree", "disagree")
SOURCES: tuple[str, ...] = ("tablet", "paper")


class InvalidReason(StrEnum):
    """Why a ballot is invalid (docs/rules.md, "Ballot validity"). Values are snake_case strings.

    The engine finds the first group itself; the paper group is ruled by the counting committee
    and arrives in :attr:`Ballot.invalid_reason` (any other snake_case reason is carried as given).
    """

    OVERVOTE = "overvote"
    UNKNOWN_CANDIDATE = "unknown_candidate"
    DUPLICATE_CANDIDATE = "duplicate_candidate"
    ALL_STRUCK = "all_struck"  # every name struck on a list with a surplus (QĐ 244 art. 17)
    NO_MARK = "no_mark"  # a single-name agree/disagree ballot without exactly one box marked
    BAD_MARK = "bad_mark"  # a mark other than agree/disagree
    UNKNOWN_ITEM = "unknown_item"
    DUPLICATE_ITEM = "duplicate_item"
    BAD_ANSWER = "bad_answer"
    WRONG_KIND = "wrong_kind"  # a resolution answer on an election ballot, or the reverse
    # ruled on paper by the counting committee
    IDENTIFYING_MARK = "identifying_mark"
    NOT_ISSUED = "not_issued"
    ADDED_NAMES = "added_names"
    OTHER = "other"


# Plain ASCII digits only: str.isdigit() and int() also take "²", "١" or "５" (the first even
# passes isdigit() and then fails int()), and a JSON object key is text.
_INT_TEXT = re.compile(r"-?[0-9]{1,18}")
_INT_BOUND = 2**63


def _int(value: Any, what: str, error: type[RulesInputError] = RulesInputError) -> int:
    # bool is an int subclass in Python; a JSON true is never a valid id or count
    if isinstance(value, int) and not isinstance(value, bool) and -_INT_BOUND < value < _INT_BOUND:
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip(" ")):
        return int(value)
    raise error(f"{what} must be an integer, not {_shown(value)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _id(value: Any, what: str) -> int:
    """An id: an integer or its ASCII digits (JSON object keys); :class:`BadIdError` else."""
    return _int(value, what, BadIdError)


def _count(value: Any, what: str) -> int:
    number = _int(value, what)
    if number < 0:
        raise RulesInputError(f"{what} must not be negative, not {number}")
    return number


@dataclass(frozen=True)
class PollSpec:
    """What is being decided: the kind, the seats and the candidates (or items) in ballot order.

    Guarantees: ``kind`` is committee, slate or resolution; seats are non-negative; only a
    slate has alternate seats; candidate and item ids are unique. Raises :class:`RulesInputError`
    otherwise.
    """

    kind: str
    seats: int = 0
    alternate_seats: int = 0
    candidate_ids: tuple[int, ...] = ()
    item_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RulesInputError(
                f"unknown poll kind {self.kind!r}; expected one of {', '.join(KINDS)}"
            )
        object.__setattr__(self, "candidate_ids", tuple(self.candidate_ids))
        object.__setattr__(self, "item_ids", tuple(self.item_ids))
        if self.seats < 0 or self.alternate_seats < 0:
            raise RulesInputError("seats and alternate_seats must not be negative")
        if self.alternate_seats and self.kind != "slate":
            raise RulesInputError("only a slate has alternate seats")
        if len(set(self.candidate_ids)) != len(self.candidate_ids):
            raise RulesInputError("candidate ids must be unique")
        if len(set(self.item_ids)) != len(self.item_ids):
            raise RulesInputError("item ids must be unique")

    @property
    def is_election(self) -> bool:
        """True for a committee or slate poll (ballots keep names), False for a resolution."""
        return self.kind != "resolution"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "kind": self.kind,
            "seats": self.seats,
            "alternate_seats": self.alternate_seats,
            "candidate_ids": list(self.candidate_ids),
            "item_ids": list(self.item_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PollSpec:
        """Inverse of :meth:`to_dict`; raises :class:`RulesInputError` on malformed input."""
        return cls(
            kind=data.get("kind", ""),
            seats=_count(data.get("seats", 0), "seats"),
            alternate_seats=_count(data.get("alternate_seats", 0), "alternate_seats"),
            candidate_ids=tuple(_id(c, "candidate id") for c in data.get("candidate_ids") or ()),
            item_ids=tuple(_id(i, "item id") for i in data.get("item_ids") or ()),
        )


@dataclass(frozen=True)
class Attendance:
    """Attendance and ballot issuance as reported by the credentials and counting committees.

    ``voters_summoned`` counts the full members (delegates) summoned — probationary members never
    vote; ``excluded`` counts those taken out of the denominator, by category (e.g. excused for
    the whole congress, QĐ 190-QĐ/TW). Every count must be a non-negative integer
    (:class:`RulesInputError` otherwise); whether they are *consistent* (issued ≤ present…) is
    left to the reconciliation checks of the result.
    """

    voters_summoned: int
    excluded: dict[str, int] = field(default_factory=dict)
    voters_present: int = 0
    ballots_issued: int = 0

    def __post_init__(self) -> None:
        numbers = [
            (name, getattr(self, name))
            for name in ("voters_summoned", "voters_present", "ballots_issued")
        ]
        numbers += [(f"excluded[{k}]", v) for k, v in self.excluded.items()]
        for name, value in numbers:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RulesInputError(f"{name} must be a non-negative integer, not {value!r}")

    @property
    def excused(self) -> int:
        """The total excluded over all categories."""
        return sum(self.excluded.values())

    @property
    def denominator_base(self) -> int:
        """The adjusted summoned voters: summoned minus every excluded category."""
        return self.voters_summoned - self.excused

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "voters_summoned": self.voters_summoned,
            "excluded": dict(self.excluded),
            "voters_present": self.voters_present,
            "ballots_issued": self.ballots_issued,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attendance:
        """Inverse of :meth:`to_dict`; raises :class:`RulesInputError` on malformed input."""
        excluded = data.get("excluded") or {}
        if not isinstance(excluded, dict):
            raise RulesInputError("excluded must be an object {category: count}")
        return cls(
            voters_summoned=_count(data.get("voters_summoned", 0), "voters_summoned"),
            excluded={str(k): _count(v, f"excluded[{k}]") for k, v in excluded.items()},
            voters_present=_count(data.get("voters_present", 0), "voters_present"),
            ballots_issued=_count(data.get("ballots_issued", 0), "ballots_issued"),
        )


@dataclass(frozen=True)
class Ballot:
    """One returned ballot, as cast on a tablet or entered from paper.

    Election ballots carry ``kept`` (the ids left standing, i.e. the votes) or, on an
    agree/disagree ballot (a list without a surplus), ``marks`` as ``(candidate_id,
    "agree"|"disagree")`` pairs (a name left out has no valid mark); resolution ballots carry
    ``answers`` as ``(item_id, "for"|"against"|"abstain")`` pairs; a paper ballot ruled
    invalid by the counting committee carries ``invalid_reason``. The data is kept exactly as
    entered (duplicates included) so that :func:`validate_ballot` can rule on it and the digest
    reflects it. ``receipt`` is carried through for the voter's check and is not part of the
    decision or the digest.
    """

    kept: tuple[int, ...] | None = None
    answers: tuple[tuple[int, str], ...] | None = None
    invalid_reason: str | None = None
    source: str = "tablet"
    receipt: str | None = None
    marks: tuple[tuple[int, str], ...] | None = None

    @property
    def votes(self) -> tuple[int, ...]:
        """The ids this ballot votes for: ``kept``, or the names marked "agree"."""
        if self.kept is not None:
            return self.kept
        return tuple(c for c, mark in self.marks or () if mark == "agree")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (answers and marks as lists of ``[id, answer]`` pairs)."""
        return {
            "kept": None if self.kept is None else list(self.kept),
            "marks": None if self.marks is None else [[c, m] for c, m in self.marks],
            "answers": None if self.answers is None else [[i, a] for i, a in self.answers],
            "invalid_reason": self.invalid_reason,
            "source": self.source,
            "receipt": self.receipt,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ballot:
        """Build from a plain dict as the API receives it.

        ``answers`` may be an object ``{item_id: answer}`` (the API's shape) or a list of pairs;
        so may ``marks`` (``{candidate_id: "agree"|"disagree"}``).
        Ids must be integers (or digit strings, as JSON object keys are); answers must be strings.
        Raises :class:`RulesInputError` on a malformed shape — rule violations (over-votes,
        unknown ids) are *not* raised here but found by :func:`validate_ballot`.
        """
        if not isinstance(data, dict):
            raise RulesInputError("a ballot must be an object")
        kept = data.get("kept")
        if kept is not None:
            if not isinstance(kept, (list, tuple)):
                raise RulesInputError("kept must be a list of candidate ids")
            kept = tuple(_id(c, "candidate id") for c in kept)
        answers = _pairs(data.get("answers"), "answers", "item id", "answer")
        marks = _pairs(data.get("marks"), "marks", "candidate id", "mark")
        reason = data.get("invalid_reason")
        if reason is not None and not isinstance(reason, str):
            raise RulesInputError("invalid_reason must be a string")
        source = data.get("source", "tablet")
        if source not in SOURCES:
            raise RulesInputError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        receipt = data.get("receipt")
        return cls(
            kept=kept,
            marks=marks,
            answers=answers,
            invalid_reason=reason or None,
            source=source,
            receipt=None if receipt is None else str(receipt),
        )


def _pairs(value: Any, name: str, what: str, one: str) -> tuple[tuple[int, str], ...] | None:
    """``{id: text}`` or a list of ``[id, text]`` pairs as a tuple of pairs (None stays None)."""
    if value is None:
        return None
    shape = f"{name} must be an object {{{what.replace(' ', '_')}: {one}}}"
    pairs = value.items() if isinstance(value, dict) else value
    if not isinstance(value, (dict, list, tuple)):
        raise RulesInputError(shape)
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise RulesInputError(shape)
        key, text = pair
        if not isinstance(text, str):
            raise RulesInputError(f"{one} must be a string, not {text!r}")
        out.append((_id(key, what), text))
    return tuple(out)


@dataclass(frozen=True)
class HandCount:
    """An open vote by show of hands, entered by the counting committee: no ballots.

    ``items`` maps each resolution item id to ``(for, against, abstain)``. Counts are
    non-negative integers (raises :class:`RulesInputError` otherwise).
    """

    items: dict[int, tuple[int, int, int]]

    def __post_init__(self) -> None:
        for item, counts in self.items.items():
            if len(counts) != 3 or any(
                isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts
            ):
                raise RulesInputError(
                    f"hand count of item {item} must be three non-negative integers"
                )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict in the API's shape: ``{"items": {"id": {for, against, abstain}}}``."""
        return {
            "items": {
                str(i): {"for": f, "against": a, "abstain": b}
                for i, (f, a, b) in sorted(self.items.items())
            }
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandCount:
        """Accepts ``{"items": {...}}`` or the bare ``{item_id: {for, against, abstain}}``."""
        if not isinstance(data, dict):
            raise RulesInputError("a hand count must be an object")
        raw = data.get("items", data)
        if not isinstance(raw, dict):
            raise RulesInputError(
                "hand count items must be an object {item_id: {for, against, abstain}}"
            )
        items: dict[int, tuple[int, int, int]] = {}
        for key, value in raw.items():
            if not isinstance(value, dict):
                raise RulesInputError(f"hand count of item {key} must be {{for, against, abstain}}")
            items[_id(key, "item id")] = tuple(  # type: ignore[assignment]
                _count(value.get(a, 0), f"{a} of item {key}") for a in ANSWERS
            )
        return cls(items)
