"""The recount export (format ``congress-vote-ballots/1``): write it, count from it, compare.

The command line that uses it is :mod:`congress_vote.rules.recount`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .count import Result, count
from .digest import DigestDocument, _ballot_json, ballot_digest, result_document
from .errors import RulesInputError
from .model import Attendance, Ballot, HandCount, PollSpec
from .settings import Settings

PAYLOAD_FORMAT = "congress-vote-ballots/1"


def recount_payload(
    spec: PollSpec,
    attendance: Attendance,
    settings: Settings,
    ballots: Iterable[Ballot],
    hand_count: HandCount | None = None,
    meta: dict[str, Any] | None = None,
    result: Result | dict[str, Any] | None = None,
    digest_inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-safe export of everything a recount needs, plus its digest.

    With ``digest_inputs`` (``{poll, candidates, items, paper, seal}``, the parts of the result
    document that are not counting inputs, see :func:`result_document`) the file carries them
    and ``digest`` is the result digest the committee signs; without, it is the ballot-set
    fingerprint (:func:`ballot_digest`).

    Ballots are written in canonical (sorted) order, never in the order they were cast, so the
    file does not reveal when anyone voted. Receipts are always left out (there is no option):
    together with the ballot contents they would let a receipt holder's vote be read. ``meta``
    is free JSON (poll id, title, names); ``result`` (a :class:`Result` or its dict) lets the
    recount compare figures as well as the digest.
    """
    ballots = list(ballots)
    ordered = sorted(ballots, key=_ballot_json)
    out: dict[str, Any] = {
        "format": PAYLOAD_FORMAT,
        "spec": spec.to_dict(),
        "attendance": attendance.to_dict(),
        "settings": settings.to_dict(),
        "ballots": [_export(b) for b in ordered],
        "hand_count": None if hand_count is None else hand_count.to_dict(),
        "digest": ballot_digest(spec, settings, ballots, hand_count),
        "meta": dict(meta or {}),
    }
    if digest_inputs is not None:
        out["digest_inputs"] = dict(digest_inputs)
        out["digest"] = _document(
            out["digest_inputs"], attendance, settings, ballots, hand_count
        ).digest
    if result is not None:
        out["result"] = result.to_dict() if isinstance(result, Result) else dict(result)
    return out


def _export(ballot: Ballot) -> dict[str, Any]:
    data = ballot.to_dict()
    del data["receipt"]  # never a receipt next to a ballot's content
    return data


def _inputs(
    payload: dict[str, Any],
) -> tuple[PollSpec, Attendance, Settings, list[Ballot], HandCount | None]:
    if not isinstance(payload, dict) or payload.get("format") != PAYLOAD_FORMAT:
        raise RulesInputError(f"not a {PAYLOAD_FORMAT} file")
    hand = payload.get("hand_count")
    return (
        PollSpec.from_dict(payload.get("spec") or {}),
        Attendance.from_dict(payload.get("attendance") or {}),
        Settings.from_dict(payload.get("settings") or {}),
        [Ballot.from_dict(b) for b in payload.get("ballots") or ()],
        None if hand is None else HandCount.from_dict(hand),
    )


def recount_from_payload(payload: dict[str, Any]) -> Result:
    """Count again from an export made by :func:`recount_payload`.

    Raises :class:`RulesInputError` if the payload is not that format or is malformed. Comparing
    with what the file claims is :func:`compare_with_payload`'s job.
    """
    spec, attendance, settings, ballots, hand = _inputs(payload)
    result = count(spec, attendance, ballots, settings, hand)
    extra = payload.get("digest_inputs")
    if extra is not None:
        if not isinstance(extra, dict) or not isinstance(extra.get("poll"), dict):
            raise RulesInputError("digest_inputs must be an object with a poll")
        _same_spec(spec, extra)
        result.digest = _document(extra, attendance, settings, ballots, hand).digest
    return result


def _document(
    extra: dict[str, Any],
    attendance: Attendance,
    settings: Settings,
    ballots: Iterable[Ballot],
    hand: HandCount | None,
) -> DigestDocument:
    return result_document(
        extra.get("poll") or {},
        settings,
        extra.get("candidates") or (),
        extra.get("items") or (),
        attendance,
        ballots,
        hand,
        extra.get("paper"),
        extra.get("seal"),
    )


def _same_spec(spec: PollSpec, extra: dict[str, Any]) -> None:
    """The spec counted must be the one the digest names (kind, seats, candidates, items)."""
    poll = extra["poll"]
    named = (
        poll.get("kind"),
        poll.get("seats"),
        poll.get("alternate_seats"),
        [c.get("id") for c in extra.get("candidates") or () if isinstance(c, dict)],
        [i.get("id") for i in extra.get("items") or () if isinstance(i, dict)],
    )
    counted = (
        spec.kind,
        spec.seats,
        spec.alternate_seats,
        list(spec.candidate_ids),
        list(spec.item_ids),
    )
    if named != counted:
        raise RulesInputError("the spec does not match the poll and candidates of digest_inputs")


_COMPARED_TOP = (
    "denominator",
    "threshold_votes",
    "elected_order",
    "ties",
    "unfilled_seats",
    "unfilled_alternate_seats",
    "alternates_pending",
    "checks_ok",
)
# What a stored result keeps for compare_with_payload: the fields it compares, no more (an
# export of the app's result carries only these; reports/result_exports.py).
RESULT_FIELDS = ("figures", *_COMPARED_TOP, "digest", "candidates", "items")


def compare_with_payload(payload: dict[str, Any], result: Result) -> list[str]:
    """What differs between ``result`` (a recount) and what ``payload`` claims: its digest and,
    when it carries a ``result``, the figures, votes, elected, ties, unfilled seats and items.
    Only fields present in the stored result are compared (the app adds names, status…).
    Returns human-readable lines; empty means the recount agrees.
    """
    diffs: list[str] = []
    if payload.get("digest") != result.digest:
        diffs.append(f"digest: file {payload.get('digest')} ≠ recount {result.digest}")
    stored = payload.get("result")
    if not isinstance(stored, dict):
        return diffs
    mine = result.to_dict()
    for key, value in (stored.get("figures") or {}).items():
        if key in mine["figures"] and mine["figures"][key] != value:
            diffs.append(f"figures.{key}: file {value!r} ≠ recount {mine['figures'][key]!r}")
    for key in _COMPARED_TOP:
        if key in stored and stored[key] != mine[key]:
            diffs.append(f"{key}: file {stored[key]!r} ≠ recount {mine[key]!r}")
    if "digest" in stored and stored["digest"] != result.digest:
        diffs.append(f"result.digest: file {stored['digest']} ≠ recount {result.digest}")
    diffs += _compare_rows(
        "candidate", stored.get("candidates"), mine["candidates"], ("votes", "percent", "elected")
    )
    diffs += _compare_rows(
        "item",
        stored.get("items"),
        mine["items"],
        ("for", "against", "abstain", "not_voted", "passed"),
    )
    return diffs


def _compare_rows(
    what: str, stored: Any, mine: list[dict[str, Any]], fields: Sequence[str]
) -> list[str]:
    if not isinstance(stored, list):
        return []
    by_id = {row["id"]: row for row in mine}
    diffs = []
    stored_ids = {row.get("id") for row in stored if isinstance(row, dict)}
    for missing in sorted(set(by_id) - stored_ids):
        diffs.append(f"{what} {missing}: missing from the file")
    for row in stored:
        if not isinstance(row, dict):
            continue
        ours = by_id.get(row.get("id"))
        if ours is None:
            diffs.append(f"{what} {row.get('id')}: not in the recount")
            continue
        for key in fields:
            if key in row and row[key] != ours[key]:
                diffs.append(f"{what} {row['id']} {key}: file {row[key]!r} ≠ recount {ours[key]!r}")
    return diffs
