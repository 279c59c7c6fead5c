"""Digests: the fingerprint of a counted ballot set (docs/rules.md, "The digests"; printed in
the minutes) and the result digest over every input of a result (docs/rules.md, "The digests")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import Attendance, Ballot, HandCount, PollSpec
from .settings import Settings

DIGEST_FORMAT = "congress-vote-digest/1"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


_STRING_CACHE: dict[str, str] = {}


def _json_str(text: str) -> str:
    # sources and reasons are a handful of short strings: encode each once
    cached = _STRING_CACHE.get(text)
    if cached is None:
        cached = _STRING_CACHE[text] = json.dumps(text, ensure_ascii=True)
        if len(_STRING_CACHE) > 1024:  # never let odd paper reasons grow it without bound
            _STRING_CACHE.clear()
    return cached


def _ballot_json(ballot: Ballot, names: dict[int, str] | None = None) -> str:
    # Hand-built for speed, byte-identical to
    # _dumps({"answers": ..., "invalid_reason": ..., "kept": ..., "source": ...}).
    # ``names`` maps the poll's candidate ids to their decimal text, computed once per count
    # (turning ~10^5 ints into text one by one is most of the digest's cost).
    kept = ballot.kept
    if kept is None:
        kept_s = "null"
    else:
        try:
            kept_s = "[" + ",".join([names[c] for c in sorted(kept)]) + "]"  # type: ignore[index]
        except (KeyError, TypeError):  # an id not on the list, or no names given
            kept_s = "[" + ",".join(map(str, sorted(kept))) + "]"
    answers = ballot.answers
    answers_s = "null" if answers is None else _dumps(sorted([i, a] for i, a in answers))
    reason = ballot.invalid_reason
    reason_s = "null" if reason is None else _json_str(str(reason))
    # "marks" only on an agree/disagree ballot that carries them: every other ballot's text
    # (and so every digest made before marks existed) is unchanged
    marks = ballot.marks
    marks_s = "" if marks is None else ',"marks":' + _dumps(sorted([c, m] for c, m in marks))
    return (
        '{"answers":'
        + answers_s
        + ',"invalid_reason":'
        + reason_s
        + ',"kept":'
        + kept_s
        + marks_s
        + ',"source":'
        + _json_str(ballot.source)
        + "}"
    )


def canonical_json(
    spec: PollSpec,
    settings: Settings,
    ballots: Iterable[Ballot],
    hand_count: HandCount | None = None,
) -> str:
    """The canonical text that :func:`ballot_digest` hashes.

    It is ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` of
    ``{"format", "spec", "settings", "hand_count", "ballots"}`` where each ballot is
    ``{"kept": sorted ids | null, "answers": sorted [id, answer] pairs | null,
    "invalid_reason", "source"}`` (plus ``"marks": sorted [id, mark] pairs`` on a ballot that
    carries agree/disagree marks, and only there) and the ballot list is sorted by its own
    canonical text, so it stands for the multiset of ballots. Receipts are left out: they
    identify a cast to its voter and decide nothing. Anyone can re-derive it from an export
    with the standard library only.
    """
    names = {cid: str(cid) for cid in spec.candidate_ids}
    entries = sorted([_ballot_json(b, names) for b in ballots])
    head = _dumps(
        {
            "format": DIGEST_FORMAT,
            "hand_count": None if hand_count is None else hand_count.to_dict(),
            "settings": settings.to_dict(),
            "spec": spec.to_dict(),
        }
    )
    # "ballots" sorts before every other key, so splicing it in front keeps sort_keys order
    return '{"ballots":[' + ",".join(entries) + "]," + head[1:]


def ballot_digest(
    spec: PollSpec,
    settings: Settings,
    ballots: Iterable[Ballot],
    hand_count: HandCount | None = None,
) -> str:
    """SHA-256 hex of :func:`canonical_json`.

    Guarantees: independent of the order of ``ballots``; changes when any ballot's kept ids,
    marks, answers, invalid reason or source change, when a ballot is added or removed, and when the
    spec, settings or hand count change; unchanged by receipts. Attendance is *not* part of it.
    """
    text = canonical_json(spec, settings, ballots, hand_count)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# --- the result digest: everything the result depends on (docs/rules.md, "The digests") ---

RESULT_FORMAT = "congress-vote-result/2"

#: The parts of the result document, in document order, and how a report names each one.
PART_LABELS: dict[str, str] = {
    "poll": "poll (id, kind, round, seats)",
    "rules": "rules",
    "candidates": "candidates",
    "items": "items",
    "attendance": "attendance",
    "ballots": "ballots",
    "hand_count": "hand counts",
    "paper": "paper figures",
    "seal": "seal (box key and trackers)",
}


@dataclass(frozen=True)
class DigestDocument:
    """The canonical, versioned document a result digest is the SHA-256 of.

    ``parts`` maps each name of :data:`PART_LABELS` (plus ``format``) to its canonical JSON
    text. The document is ``{"attendance":…,"ballots":[…],…}`` with keys sorted, no spaces,
    ASCII only (``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``),
    so anyone can rebuild it with the standard library from a published board or an export.
    """

    parts: dict[str, str]

    def text(self) -> str:
        return "{" + ",".join(f"{json.dumps(k)}:{self.parts[k]}" for k in sorted(self.parts)) + "}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text().encode("ascii")).hexdigest()

    def part_hashes(self) -> dict[str, str]:
        """SHA-256 of each part's text: stored beside the result, so a later check can name
        which input changed after signing."""
        return {k: hashlib.sha256(v.encode("ascii")).hexdigest() for k, v in self.parts.items()}

    def differing(self, stored: dict[str, str] | None) -> list[str]:
        """The labels of the parts whose hash differs from ``stored`` (a former
        :meth:`part_hashes`); every part when nothing usable was stored."""
        mine = self.part_hashes()
        if not isinstance(stored, dict):
            return [PART_LABELS.get(k, k) for k in mine if k != "format"]
        return [PART_LABELS.get(k, k) for k in mine if stored.get(k) != mine[k]]


def result_document(
    poll: dict[str, Any],
    settings: Settings,
    candidates: Iterable[dict[str, Any]],
    items: Iterable[dict[str, Any]],
    attendance: Attendance,
    ballots: Iterable[Ballot],
    hand_count: HandCount | None = None,
    paper: dict[str, Any] | None = None,
    seal: dict[str, Any] | None = None,
) -> DigestDocument:
    """Build the one document every result digest is made from (count, recount, verify-audit,
    the stored result, the export).

    * ``poll``: ``{id, kind, round, seats, alternate_seats, secrecy}``;
    * ``settings``: every rules setting (:meth:`Settings.to_dict`);
    * ``candidates`` in ballot order, each ``{id, full_name, position, delegate_id}`` (what tells
      namesakes apart), or ``items`` ``{id, text}`` in order;
    * ``attendance``: the figures the count used (:meth:`Attendance.to_dict`);
    * ``ballots``: the counted ballot set, each as in :func:`canonical_json`, sorted;
    * ``hand_count``: a show of hands (or null);
    * ``paper``: ``{issued, unused, returned, entered}`` paper ballots (unused/returned null
      until the committee records the return);
    * ``seal``: for a sealed poll the box's public key and the trackers (null until sealed
      ballot boxes exist).
    """
    cands: list[dict[str, Any]] = [
        {
            "id": int(c["id"]),
            "full_name": str(c.get("full_name") or ""),
            "position": str(c.get("position") or ""),
            "delegate_id": c.get("delegate_id"),
        }
        for c in candidates
    ]
    names: dict[int, str] = {c["id"]: str(c["id"]) for c in cands}
    parts = {
        "format": _dumps(RESULT_FORMAT),
        "poll": _dumps(
            {k: poll.get(k) for k in ("id", "kind", "round", "seats", "alternate_seats", "secrecy")}
        ),
        "rules": _dumps(settings.to_dict()),
        "candidates": _dumps(cands),
        "items": _dumps([{"id": int(i["id"]), "text": str(i.get("text") or "")} for i in items]),
        "attendance": _dumps(attendance.to_dict()),
        "ballots": "[" + ",".join(sorted(_ballot_json(b, names) for b in ballots)) + "]",
        "hand_count": _dumps(None if hand_count is None else hand_count.to_dict()),
        "paper": _dumps(paper),
        "seal": _dumps(seal),
    }
    return DigestDocument(parts)
