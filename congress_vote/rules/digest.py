"""The fingerprint of a counted ballot set (domain.md, "Counting, checks and the minutes", 7)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from .model import Ballot, HandCount, PollSpec
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
    return ('{"answers":' + answers_s + ',"invalid_reason":' + reason_s + ',"kept":' + kept_s
            + ',"source":' + _json_str(ballot.source) + "}")


def canonical_json(spec: PollSpec, settings: Settings, ballots: Iterable[Ballot],
                   hand_count: HandCount | None = None) -> str:
    """The canonical text that :func:`ballot_digest` hashes.

    It is ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` of
    ``{"format", "spec", "settings", "hand_count", "ballots"}`` where each ballot is
    ``{"kept": sorted ids | null, "answers": sorted [id, answer] pairs | null,
    "invalid_reason", "source"}`` and the ballot list is sorted by its own canonical text, so it
    stands for the multiset of ballots. Receipts are left out: they identify a cast to its voter
    and decide nothing. Anyone can re-derive it from an export with the standard library only.
    """
    names = {cid: str(cid) for cid in spec.candidate_ids}
    entries = sorted([_ballot_json(b, names) for b in ballots])
    head = _dumps({
        "format": DIGEST_FORMAT,
        "hand_count": None if hand_count is None else hand_count.to_dict(),
        "settings": settings.to_dict(),
        "spec": spec.to_dict(),
    })
    # "ballots" sorts before every other key, so splicing it in front keeps sort_keys order
    return '{"ballots":[' + ",".join(entries) + "]," + head[1:]


def ballot_digest(spec: PollSpec, settings: Settings, ballots: Iterable[Ballot],
                  hand_count: HandCount | None = None) -> str:
    """SHA-256 hex of :func:`canonical_json`.

    Guarantees: independent of the order of ``ballots``; changes when any ballot's kept ids,
    answers, invalid reason or source change, when a ballot is added or removed, and when the
    spec, settings or hand count change; unchanged by receipts. Attendance is *not* part of it.
    """
    text = canonical_json(spec, settings, ballots, hand_count)
    return hashlib.sha256(text.encode("ascii")).hexdigest()
