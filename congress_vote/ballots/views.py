"""HTML views: the tablet kiosk and the ballot pages (public: the ballot token is the credential).

Flow without JavaScript: choose (checkboxes / radios) → POST "review" → a confirmation page
rendered by the server, the choice carried in hidden fields → POST "cast" → the receipt page.
JavaScript (static/js/ballot-vote.js) adds tap-to-strike, the live "kept N of M" count and blocks
an over-vote before review; the server checks everything again. Choices travel only in POST
bodies, never in a URL; every response is no-store (security.py).
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from ..congress import kiosks
from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db, limiter
from ..ids import id_or_none
from ..polls.models import Poll
from ..polls.services import settings_of
from ..rules import max_kept
from ..security import csrf_exempt, current_actor, public, roles
from .services import (
    cast_ballot,
    cast_named_vote,
    named_vote_exists,
    open_ballot,
    open_named_polls,
    resolve_code,
    voter_by_card,
)
from .spec import check_choice, poll_spec

bp = Blueprint("ballots", __name__)
NAMED_SESSION_SECONDS = 300  # a card unlocks a named ballot for five minutes


def code_entry_limit():
    return current_app.config["RATELIMIT_CODE_ENTRY"]


# Every answer about a code other than its ballot: malformed (400), unknown (404), used or its
# poll not open (409), not for this device (403). Each tells a prober something about the code.
LOOKUP_FAILURES = frozenset((400, 403, 404, 409))


def failed_lookup(response) -> bool:
    """Only lookups that give no ballot use up the budget — unknown, malformed, used codes and
    cards, whether looked up to vote or to see their status: a kiosk tablet is one client for
    every voter in its queue, and a vote takes several requests that succeed."""
    return response.status_code in LOOKUP_FAILURES


def _kiosk_cid() -> int | None:
    return id_or_none(request.values.get("k", ""))


# ---- reading a choice from the form -------------------------------------------------------------


def agree_mode(poll: Poll) -> bool:
    """Agree/disagree boxes per name where there are as many candidates as seats."""
    return poll.kind != "resolution" and len(poll.candidates) <= poll.seats + (
        poll.alternate_seats if poll.kind == "slate" else 0
    )


def choice_from_form(poll: Poll, form) -> dict:
    """{"kept": [...]} or {"answers": {...}} from the posted form (strike / agree / answers)."""
    if poll.kind == "resolution":
        answers = {}
        for item in poll.items:
            value = form.get(f"i{item.id}")
            if value in ("for", "against", "abstain"):
                answers[str(item.id)] = value
        return {"answers": answers}
    if agree_mode(poll):
        return {"kept": [c.id for c in poll.candidates if form.get(f"c{c.id}") == "agree"]}
    struck = set(form.getlist("struck"))
    return {"kept": [c.id for c in poll.candidates if str(c.id) not in struck]}


def _context(poll: Poll, choice: dict | None):
    limit = max_kept(poll_spec(poll), settings_of(poll))
    kept = set((choice or {}).get("kept") or ([] if choice else [c.id for c in poll.candidates]))
    answers = (choice or {}).get("answers") or {}
    return {
        "poll": poll,
        "limit": limit,
        "agree": agree_mode(poll),
        "kept": kept,
        "answers": answers,
        "choice": choice,
    }


def _render_ballot(poll, action: str, choice=None, error=None, status=200, **extra):
    ctx = _context(poll, choice)
    ctx.update(extra)
    return render_template("ballots/ballot.html", action=action, error=error, **ctx), status


def _ballot_flow(poll: Poll, action: str, cast, kiosk_cid: int | None, **extra):
    """The shared choose → review → cast steps of a ballot page (token or named)."""
    if request.method == "GET":
        return _render_ballot(poll, action, kiosk_cid=kiosk_cid, **extra)
    step = request.form.get("step", "review")
    choice = choice_from_form(poll, request.form)
    if step == "edit":
        return _render_ballot(poll, action, choice, kiosk_cid=kiosk_cid, **extra)
    try:
        check_choice(poll, **choice)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return _render_ballot(
            poll, action, choice, error=exc.code, status=422, kiosk_cid=kiosk_cid, **extra
        )
    if step != "cast":
        ctx = _context(poll, choice)
        return render_template(
            "ballots/confirm.html", action=action, kiosk_cid=kiosk_cid, **ctx, **extra
        )
    try:
        receipt = cast(choice)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 422:
            return _render_ballot(
                poll, action, choice, error=exc.code, status=422, kiosk_cid=kiosk_cid, **extra
            )
        return render_template(
            "ballots/problem.html", message=exc.message, code=exc.code, kiosk_cid=kiosk_cid
        ), exc.status
    db.session.commit()
    return render_template("ballots/receipt.html", poll=poll, receipt=receipt, kiosk_cid=kiosk_cid)


# ---- the kiosk -------------------------------------------------------------------------------


@bp.app_errorhandler(kiosks.KioskRequired)
def kiosk_required(err: kiosks.KioskRequired):
    """403 kiosk_required, for the API and every page (raised by kiosks.require_kiosk): the page
    says where to vote and nothing about the ballot."""
    from ..errors import json_error, wants_json

    db.session.rollback()
    if wants_json():
        return json_error(err.status, err.code, err.message)
    return render_template(
        "ballots/kiosk_required.html", cid=err.congress_id, message=err.message
    ), err.status


def _may_enrol() -> bool:
    actor = current_actor()
    return actor is not None and bool({"registrar", "counter"} & set(actor.role_list))


@bp.get("/kiosk/<int:cid>")
@public
def kiosk(cid):
    """The kiosk's start page (scan a slip or a card). A registrar or counter signed in on a
    device that is not yet a kiosk of this congress sees the form that enrols it."""
    congress = get_congress(cid)
    session.pop("named", None)
    enrol = _may_enrol() and not kiosks.is_kiosk_of(cid)
    can_vote = not kiosks.kiosk_needed(cid)
    if not (enrol or can_vote):
        raise kiosks.KioskRequired(cid)
    return render_template(
        "ballots/kiosk.html",
        congress=congress,
        error=None,
        enrol=enrol,
        can_vote=can_vote,
        is_kiosk=kiosks.is_kiosk_of(cid),
    )


@bp.post("/kiosk/<int:cid>/enrol")
@roles("registrar", "counter")
def kiosk_enrol(cid):
    """Enrol this browser as a kiosk of the congress: it gets the kiosk cookie; the staff member
    can then sign out and leave the tablet to the delegates."""
    congress = get_congress(cid)
    try:
        kiosk, token = kiosks.enrol_kiosk(
            congress, request.form.get("label"), actor=current_actor()
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("ballots.kiosk", cid=cid), 303)
    flash(
        _(
            "This tablet is now the kiosk “%(label)s” of this congress. Sign out and leave it "
            "to the delegates.",
            label=kiosk.label,
        ),
        "ok",
    )
    response = redirect(url_for("ballots.kiosk", cid=cid), 303)
    kiosks.set_kiosk_cookie(response, token)
    return response


@bp.post("/kiosk/<int:cid>")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
def kiosk_code(cid):
    """A scanned or typed ballot code (→ its ballot page) or a delegate card (→ named vote)."""
    congress = get_congress(cid)
    kiosks.require_kiosk(cid)
    text = (request.form.get("code") or "").strip()
    code = resolve_code(text)
    try:
        if code is not None or not text.upper().startswith("CV1:C:"):
            try:
                open_ballot(text, congress_id=cid)
                return redirect(url_for("ballots.ballot", code=code, k=cid), 303)
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
        pending = [p for p in polls if not named_vote_exists(p, delegate.id)]
        if not pending:
            raise ServiceError(
                "ballot_used", _("You have already voted in every open vote."), status=409
            )
        session["named"] = {
            "did": delegate.id,
            "cid": cid,
            "exp": int(time.time()) + NAMED_SESSION_SECONDS,
        }
        if len(pending) == 1:
            return redirect(url_for("ballots.named", cid=cid, pid=pending[0].id), 303)
        return render_template(
            "ballots/named_choose.html", congress=congress, polls=pending, delegate=delegate
        )
    except ServiceError as exc:
        db.session.rollback()
        return render_template(
            "ballots/kiosk.html", congress=congress, error=exc.message
        ), exc.status


@bp.route("/kiosk/<int:cid>/vote/<int:pid>", methods=["GET", "POST"])
@public
def named(cid, pid):
    """A named ballot of an open poll, unlocked at this kiosk by a delegate's card."""
    from ..congress.models import Delegate

    congress = get_congress(cid)
    kiosks.require_kiosk(cid)
    poll = db.session.get(Poll, pid)
    if poll is None or poll.congress_id != cid:
        raise ServiceError("unknown_poll", _("No such poll."), status=404)
    unlocked = session.get("named") or {}
    if unlocked.get("cid") != cid or unlocked.get("exp", 0) < time.time():
        session.pop("named", None)
        return render_template(
            "ballots/kiosk.html", congress=congress, error=_("Scan your delegate card first.")
        ), 403
    delegate = db.session.get(Delegate, unlocked["did"])
    if poll.status != "open" or poll.secrecy != "open":
        raise ServiceError("poll_not_open", _("This vote is not open."), status=409)
    if named_vote_exists(poll, delegate.id):
        raise ServiceError("ballot_used", _("You have already voted in this poll."), status=409)

    def cast(choice):
        receipt = cast_named_vote(poll, delegate, **choice)
        session.pop("named", None)
        return receipt

    return _ballot_flow(
        poll, url_for("ballots.named", cid=cid, pid=pid), cast, cid, delegate=delegate, named=True
    )


# ---- the ballot page (the QR's URL) -------------------------------------------------------------


@bp.route("/b/<code>", methods=["GET", "POST"])
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
def ballot(code):
    """The ballot of a token: the QR code's URL, opened at the kiosk or with a phone camera."""
    kiosk_cid = _kiosk_cid()
    kiosks.require_kiosk_for_ballot(code)
    norm = resolve_code(code)
    try:
        poll, _token = open_ballot(code, congress_id=kiosk_cid)
    except ServiceError as exc:
        db.session.rollback()
        return render_template(
            "ballots/problem.html", message=exc.message, code=exc.code, kiosk_cid=kiosk_cid
        ), exc.status
    action = url_for("ballots.ballot", code=norm, k=kiosk_cid)

    def cast(choice):
        return cast_ballot(norm, congress_id=kiosk_cid, **choice)

    return _ballot_flow(poll, action, cast, kiosk_cid, named=False)
