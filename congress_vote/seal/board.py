"""The public board of a counted poll (issue 16; docs/sealed-box.md, "The board"): everything
an outsider needs to check the poll without the database — the inputs of the result digest
(the recount export: rules, candidates or items, attendance, the opened ballot set, hand
counts, paper figures, the seal's public key and trackers), the digest, the published result,
the committee's public keys with fingerprints and their signatures.
``seal.verify_board.check_board`` checks it.

The opened ballot set is listed in a fresh random order (``secrets.SystemRandom``) on every
request, as api.md promises: its order tells nothing, neither the casting order nor which rows
were stored next to each other. The digest does not depend on it: the result document sorts
the ballots by their canonical text itself (``rules.digest.result_document``), and so does the
verifier's recount."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from ..congress.models import Congress
from ..counting.results import result_dict
from ..counting.signoff import signature_rows, signoffs_required
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import COUNTED_OR_LATER
from ..reports.result_exports import ballots_export
from .models import KeyCard
from .signing import SIGNOFF_CONTEXT
from .verify_board import BOARD_FORMAT

SIGNOFF_MESSAGE = (
    f"{SIGNOFF_CONTEXT.decode()} ‖ poll id (8 bytes, big-endian) ‖ digest (32 bytes); Ed25519"
)


def board_of(poll: Poll) -> dict:
    """The board of a counted poll (409 `not_counted` before the count)."""
    result = result_dict(poll)
    if result is None or poll.status not in COUNTED_OR_LATER:
        raise ServiceError("not_counted", _("This poll has not been counted yet."), status=409)
    inputs = ballots_export(poll)
    inputs.pop("result", None)  # the board's "result" is the published one, checked against it
    secrets.SystemRandom().shuffle(inputs["ballots"])  # the export's canonical order: not here
    seal = (inputs.get("digest_inputs") or {}).get("seal")
    members, signatures = [], []
    for row in signature_rows(poll):
        card = db.session.get(KeyCard, row["key_card_id"]) if row["key_card_id"] else None
        member = {
            "user_id": row["user_id"],
            "full_name": row["full_name"],
            "title": row["title"],
            "is_head": row["is_head"],
            "key_card_id": row["key_card_id"],
            "opening_public": card.opening_public.hex() if card else None,
            "signing_public": card.signing_public.hex() if card else None,
            "opening_fingerprint": row["opening_fingerprint"],
            "signing_fingerprint": row["signing_fingerprint"],
        }
        members.append(member)
        if row["signature"]:
            signatures.append(
                {
                    "user_id": row["user_id"],
                    "full_name": row["full_name"],
                    "key_card_id": row["key_card_id"],
                    "signing_public": member["signing_public"],
                    "signing_fingerprint": row["signing_fingerprint"],
                    "signature": row["signature"],
                    "signed_at": row["signed_at"],
                }
            )
    congress = db.session.get(Congress, poll.congress_id)
    return {
        "format": BOARD_FORMAT,
        "poll": {
            "id": poll.id,
            "title": poll.title,
            "kind": poll.kind,
            "round": poll.round,
            "secrecy": poll.secrecy,
            "status": poll.status,
        },
        "congress": congress.name if congress else "",
        "digest": result["digest"],
        "signoff_message": SIGNOFF_MESSAGE,
        "inputs": inputs,
        "trackers": list(seal.get("trackers") or []) if seal else [],
        "result": {k: v for k, v in result.items() if k != "signoffs"},
        "members": members,
        "signatures": signatures,
        "signoffs_required": signoffs_required(poll),
    }
