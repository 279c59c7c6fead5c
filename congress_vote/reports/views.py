"""HTML views of the chair's side: the presidium console, the projector screen, the public
results page with the receipt check. Thin: they call reports.services and the polls services."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..ballots.services import turnout
from ..congress.attendance import attendance
from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db, limiter
from ..polls import services as polls_services  # open_poll / close_poll (names taken by views)
from ..polls.services import get_poll
from ..seal.sealing import seal_view
from ..security import current_actor, public, roles
from . import services as svc
from .opening import opening_check
from .projector import get_choice, screen_state, set_choice, shown

bp = Blueprint("reports", __name__)


@bp.get("/congresses/<int:cid>/console")
@roles("chair")
def console(cid: int):
    congress = get_congress(cid)
    polls = svc.agenda(congress)
    what, shown_poll, _message, source = shown(congress)
    return render_template(
        "reports/console.html",
        congress=congress,
        polls=polls,
        att=attendance(congress),
        turnouts={p.id: turnout(p) for p in polls if p.status == "open"},
        seals={p.id: seal_view(p) for p in polls if p.secrecy == "secret"},
        choice=get_choice(congress),
        shows={"what": what, "poll": shown_poll, "source": source},
        s=screen_state(congress),
    )


@bp.post("/congresses/<int:cid>/console/projector")
@roles("chair")
def choose_projector(cid: int):
    """The console's projector form: the same service as PUT /api/v1/.../projector."""
    congress = get_congress(cid)
    try:
        set_choice(congress, request.form, current_actor())
        db.session.commit()
        flash(_("The projector shows your choice."), "ok")
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("reports.console", cid=cid) + "#projector")


@bp.get("/congresses/<int:cid>/console.json")
@roles("chair", "observer")
def console_json(cid: int):
    return jsonify(svc.console_state(get_congress(cid)))


def _poll_action(cid: int, pid: int, verb: str):
    congress = get_congress(cid)
    poll = get_poll(pid)
    if poll.congress_id != congress.id:
        raise ServiceError("not_found", _("No such poll in this congress."), status=404)
    actor = current_actor()
    if verb == "publish":
        svc.publish_poll(poll, actor)
        msg = _("Result published: %(title)s", title=poll.title)
    else:
        getattr(polls_services, f"{verb}_poll")(poll, actor)
        msg = (
            _("Poll opened: %(title)s", title=poll.title)
            if verb == "open"
            else _("Poll closed: %(title)s", title=poll.title)
        )
    db.session.commit()
    flash(msg, "ok")
    return redirect(url_for("reports.console", cid=cid))


@bp.route("/congresses/<int:cid>/console/polls/<int:pid>/open", methods=["GET", "POST"])
@roles("chair")
def open_poll(cid: int, pid: int):
    """Opening asks first: a page listing the warnings (reports/opening.py) and the figures,
    whose button posts `confirmed=1`. A post without it shows the same page."""
    if request.method == "POST" and request.form.get("confirmed") == "1":
        return _poll_action(cid, pid, "open")
    congress = get_congress(cid)
    poll = get_poll(pid)
    if poll.congress_id != congress.id:
        raise ServiceError("not_found", _("No such poll in this congress."), status=404)
    if poll.status != "draft":
        return redirect(url_for("reports.console", cid=cid))
    return render_template(
        "reports/open_confirm.html", congress=congress, poll=poll, check=opening_check(poll)
    )


@bp.post("/congresses/<int:cid>/console/polls/<int:pid>/close")
@roles("chair")
def close_poll(cid: int, pid: int):
    return _poll_action(cid, pid, "close")


@bp.post("/congresses/<int:cid>/console/polls/<int:pid>/publish")
@roles("chair")
def publish(cid: int, pid: int):
    return _poll_action(cid, pid, "publish")


@bp.get("/congresses/<int:cid>/screen")
@public
def projector(cid: int):
    congress = get_congress(cid)
    return render_template("reports/projector.html", congress=congress, s=screen_state(congress))


@bp.get("/congresses/<int:cid>/screen.json")
@public
def projector_json(cid: int):
    """The projector's state; `html` is the same fragment the page shows, so the screen and
    the page cannot disagree. Public-safe by construction (see projector.screen_state)."""
    congress = get_congress(cid)
    s = screen_state(congress)
    html = render_template("reports/_screen.html", congress=congress, s=s)
    return jsonify({**s, "html": html})


@bp.get("/congresses/<int:cid>/results")
@public
def public_results(cid: int):
    congress = get_congress(cid)
    return _render_public(congress)


def _render_public(congress, checked=None, code=""):
    published = [p for p in svc.agenda(congress) if p.status == "published"]
    results = [(p, svc.public_result(p), svc.receipts(p)) for p in published]
    return render_template(
        "reports/public_results.html",
        congress=congress,
        results=results,
        checked=checked,
        code=code,
    )


@bp.post("/congresses/<int:cid>/results/check")
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_ENTRY"])
@public
def check_receipt(cid: int):
    congress = get_congress(cid)
    code = (request.form.get("code") or "").strip()[:64]
    found = svc.check_receipt(congress, code)
    return _render_public(congress, checked=found, code=code)
