"""API routes: voting with a ballot token, and named votes with a delegate's card (see api.md).

No staff login: the token (or card) in the path/body is the credential, so these are public and
CSRF-exempt, and rate limited per client so codes cannot be guessed. With the congress setting
kiosk_only they must come from an enrolled kiosk (X-Kiosk-Token or the kiosk cookie): 403
kiosk_required otherwise, checked before anything else (congress/kiosks.py).
"""
from flask import current_app

from ..ballots.services import cast_ballot, cast_named_vote, open_ballot, voter_by_card
from ..ballots.views import failed_lookup
from ..congress.kiosks import require_kiosk, require_kiosk_for_ballot
from ..congress.models import Congress
from ..extensions import db, limiter
from ..polls.services import get_poll
from ..security import csrf_exempt, public
from . import bp
from .util import doc, field, json_body, ok

_ID = {"type": "integer"}
_STR = {"type": "string"}
BALLOT_SCHEMA = {"type": "object", "properties": {
    "poll": {"type": "object", "properties": {
        "id": _ID, "kind": _STR, "title": _STR, "seats": _ID, "alternate_seats": _ID,
        "max_kept": _ID, "round": _ID, "setup_fingerprint": _STR}},
    "candidates": {"type": "array", "items": {"type": "object", "properties": {
        "id": _ID, "full_name": _STR, "position": _STR}}},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "id": _ID, "text": _STR}}}}}
CHOICE_BODY = {"type": "object", "properties": {
    "kept": {"type": "array", "items": _ID},
    "answers": {"type": "object", "additionalProperties": {
        "type": "string", "enum": ["for", "against", "abstain"]}}}}
RECEIPT = {"type": "object", "properties": {"receipt": _STR}}


def code_entry_limit():
    return current_app.config["RATELIMIT_CODE_ENTRY"]


def ballot_view(poll) -> dict:
    """What a voter sees: the poll and its candidates (ballot order) or items."""
    from ..ballots.services import poll_spec
    from ..polls.services import settings_of
    from ..rules import max_kept
    out = {"poll": {"id": poll.id, "kind": poll.kind, "title": poll.title, "seats": poll.seats,
                    "alternate_seats": poll.alternate_seats, "round": poll.round,
                    "max_kept": max_kept(poll_spec(poll), settings_of(poll)),
                    "setup_fingerprint": poll.setup_fingerprint}}
    if poll.kind == "resolution":
        out["items"] = [{"id": i.id, "text": i.text} for i in poll.items]
    else:
        out["candidates"] = [{"id": c.id, "full_name": c.full_name, "position": c.position}
                             for c in poll.candidates]
    return out


@bp.get("/ballot/<token>")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc("The ballot of a token (or its printed code)", response=BALLOT_SCHEMA,
     statuses=(200, 403, 404, 409, 429))
def get_ballot(token):
    require_kiosk_for_ballot(token)
    poll, _ = open_ballot(token)
    return ok(ballot_view(poll))


@bp.post("/ballot/<token>")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc("Cast a ballot: {kept: [candidate ids]} or {answers: {item_id: for|against|abstain}}",
     body=CHOICE_BODY, response=RECEIPT, statuses=(201, 400, 403, 404, 409, 422, 429))
def post_ballot(token):
    require_kiosk_for_ballot(token)
    data = json_body()
    receipt = cast_ballot(token, kept=data.get("kept"), answers=data.get("answers"))
    db.session.commit()
    return ok({"receipt": receipt}, 201)


@bp.post("/polls/<int:pid>/named-votes")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc("Vote by name in an open poll, unlocked by the delegate's card",
     body={"type": "object", "required": ["card"], "properties": {
         "card": {"type": "string"}, **CHOICE_BODY["properties"]}},
     response=RECEIPT, statuses=(201, 400, 403, 404, 409, 422, 429))
def post_named_vote(pid):
    poll = get_poll(pid)
    require_kiosk(poll.congress_id)
    data = json_body()
    card = field(data, "card", str)
    delegate = voter_by_card(db.session.get(Congress, poll.congress_id), card)
    receipt = cast_named_vote(poll, delegate, kept=data.get("kept"), answers=data.get("answers"))
    db.session.commit()
    return ok({"receipt": receipt}, 201)
