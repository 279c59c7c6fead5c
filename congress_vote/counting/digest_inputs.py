"""The stored poll's side of the result digest (docs/rules.md, "The digests").

:func:`congress_vote.rules.digest.result_document` builds the one canonical document; this
module gathers what it needs from the database besides the counting inputs (which come from
``counting.inputs.rules_inputs``): the poll's identity, the candidates with the details that
tell namesakes apart (or the items), the paper figures, and — once sealed ballot boxes exist —
the seal. The count, the recount, ``verify-audit``, the stored result and the ballots export
all use it, so they cannot hash different things.
"""

from __future__ import annotations

from ..polls.models import Poll
from ..rules.digest import DigestDocument, result_document
from ..seal.sealing import trackers_of
from .paper_figures import paper_figures


def seal_of(poll: Poll) -> dict | None:
    """The box's public key (hex), threshold and sorted trackers of a sealed poll (issue 16);
    None for a poll that is not sealed."""
    if poll.seal_public is None:
        return None
    return {
        "public_key": poll.seal_public.hex(),
        "threshold": poll.seal_threshold,
        "trackers": trackers_of(poll),
    }


def digest_inputs(poll: Poll) -> dict:
    """The parts of the document that are not counting inputs: ``{poll, candidates, items,
    paper, seal}`` (also written into the ballots export so an offline recount can rebuild
    the digest)."""
    return {
        "poll": {
            "id": poll.id,
            "kind": poll.kind,
            "round": poll.round,
            "seats": poll.seats,
            "alternate_seats": poll.alternate_seats,
            "secrecy": poll.secrecy,
        },
        "candidates": [
            {
                "id": c.id,
                "full_name": c.full_name,
                "position": c.position or "",
                "delegate_id": c.delegate_id,
            }
            for c in sorted(poll.candidates, key=lambda c: (c.ballot_order, c.id))
        ],
        "items": [
            {"id": i.id, "text": i.text}
            for i in sorted(poll.items, key=lambda i: (i.position, i.id))
        ],
        "paper": paper_figures(poll),
        "seal": seal_of(poll),
    }


def document_for(poll: Poll, attendance, ballots, settings, hand) -> DigestDocument:
    """The result document of `poll` from the counting inputs the count used."""
    extra = digest_inputs(poll)
    return result_document(
        extra["poll"],
        settings,
        extra["candidates"],
        extra["items"],
        attendance,
        ballots,
        hand,
        extra["paper"],
        extra["seal"],
    )
