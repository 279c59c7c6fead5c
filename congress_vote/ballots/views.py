"""HTML views: the tablet kiosk and the ballot pages (public: the ballot token is the credential).

Flow without JavaScript: choose (checkboxes / radios) → POST "review" → a confirmation page
rendered by the server, the choice carried in hidden fields → POST "cast" → the receipt page.
JavaScript (static/js/ballot-vote.js) adds tap-to-strike, the live "kept N of M" count, keeps an
over-vote from the review, and sends the same forms itself (retrying when the network drops; a
repeated cast of a sealed ballot, or of a named vote from the same kiosk session, answers its
receipt again); the server checks everything again.
Choices travel only in POST bodies, never in a URL; every response is no-store (security.py).
"""

from __future__ import annotations

import secrets
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
from ..db import read_only_request
from ..errors import ServiceError
from ..extensions import db, limiter
from ..ids import id_or_none
from ..security import csrf_exempt, current_actor, public, roles
from .kiosk_pages import register as register_kiosk_pages
from .services import resolve_code
from .voting import (
    BallotPage,
    Marks,
    ScanCardFirst,
    ballot_step,
    enter_code,
    kiosk_start,
    named_step,
)

bp = Blueprint("ballots", __name__)
register_kiosk_pages(bp)  # kiosk_start_url and the letter index's filters, for every template
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


# ---- rendering a step ------------------------------------------------------------------------

_TEMPLATES = {
    "choose": "ballots/ballot.html",
    "review": "ballots/confirm.html",
    "cast": "ballots/receipt.html",
}


def _marks() -> tuple[str, Marks | None]:
    """The step and the marks of this request's form (None on GET: show the ballot)."""
    if request.method == "GET":
        return "show", None
    form = request.form
    return form.get("step", "review"), Marks(frozenset(form.getlist("struck")), form.to_dict())


def _render(page: BallotPage, action: str, kiosk_cid: int | None):
    if page.stage == "problem":
        return render_template(
            "ballots/problem.html", message=page.message, code=page.error, kiosk_cid=kiosk_cid
        ), page.status
    return render_template(
        _TEMPLATES[page.stage], action=action, kiosk_cid=kiosk_cid, **page.context()
    ), page.status


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
    session.pop("named", None)
    start = kiosk_start(cid, _may_enrol())
    return render_template(
        "ballots/kiosk.html",
        congress=start.congress,
        error=None,
        enrol=start.enrol,
        can_vote=start.can_vote,
        is_kiosk=start.is_kiosk,
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
    entry = enter_code(cid, (request.form.get("code") or "").strip())
    if entry.error is not None:
        return render_template(
            "ballots/kiosk.html", congress=entry.congress, error=entry.error.message
        ), entry.error.status
    if entry.ballot is not None:
        return redirect(url_for("ballots.ballot", code=entry.ballot, k=cid), 303)
    assert entry.delegate is not None
    session["named"] = {
        "did": entry.delegate.id,
        "cid": cid,
        "exp": int(time.time()) + NAMED_SESSION_SECONDS,
        "n": secrets.token_urlsafe(16),  # this unlock's nonce: its cast's receipt (named_step)
    }
    if len(entry.polls) == 1:
        return redirect(url_for("ballots.named", cid=cid, pid=entry.polls[0].id), 303)
    return render_template(
        "ballots/named_choose.html",
        congress=entry.congress,
        polls=entry.polls,
        delegate=entry.delegate,
    )


@bp.route("/kiosk/<int:cid>/vote/<int:pid>", methods=["GET", "POST"])
@public
def named(cid, pid):
    """A named ballot of an open poll, unlocked at this kiosk by a delegate's card."""
    unlocked = session.get("named") or {}
    fresh = unlocked.get("cid") == cid and unlocked.get("exp", 0) >= time.time()
    step, marks = _marks()
    try:
        page = named_step(
            cid, pid, unlocked["did"] if fresh else None, step, marks, unlocked.get("n")
        )
    except ScanCardFirst as exc:
        session.pop("named", None)
        return render_template(
            "ballots/kiosk.html", congress=exc.congress, error=exc.message
        ), exc.status
    except ServiceError as exc:
        if exc.code != "ballot_used" or not exc.extra.get("receipt"):
            raise
        # This session's cast sent again after its answer was lost: recorded once, its receipt.
        db.session.rollback()
        session.pop("named", None)
        return render_template(
            "ballots/receipt.html", receipt=exc.extra["receipt"], again=True, kiosk_cid=cid
        )
    if page.stage == "cast":
        session.pop("named", None)
    return _render(page, url_for("ballots.named", cid=cid, pid=pid), cid)


# ---- the ballot page (the QR's URL) -------------------------------------------------------------


@bp.route("/b/<code>", methods=["GET", "POST"])
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
def ballot(code):
    """The ballot of a token: the QR code's URL, opened at the kiosk or with a phone camera."""
    kiosk_cid = _kiosk_cid()
    step, marks = _marks()
    if step != "cast":  # showing, reviewing or changing a ballot writes nothing
        read_only_request()
    try:
        page = ballot_step(code, kiosk_cid, step, marks)
    except kiosks.KioskRequired:
        raise
    except ServiceError as exc:
        db.session.rollback()
        if step == "cast" and exc.code == "ballot_used" and exc.extra.get("receipt"):
            # A cast sent again after its answer was lost: the ballot is in the sealed box once;
            # the voter sees that it was received, with its receipt.
            return render_template(
                "ballots/receipt.html",
                receipt=exc.extra["receipt"],
                again=True,
                kiosk_cid=kiosk_cid,
            )
        return render_template(
            "ballots/problem.html", message=exc.message, code=exc.code, kiosk_cid=kiosk_cid
        ), exc.status
    return _render(page, url_for("ballots.ballot", code=resolve_code(code), k=kiosk_cid), kiosk_cid)
