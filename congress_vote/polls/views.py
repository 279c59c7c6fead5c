"""HTML views: the agenda of polls, poll setup, the poll page (lifecycle actions, issuance,
live turnout) and the batch PDFs (slips, paper ballots), kept until the poll closes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth.models import User
from ..ballots.batch_pdfs import batch_pdf, kept_batches
from ..ballots.issuing import issue_batch
from ..ballots.models import Ballot, BallotToken
from ..ballots.services import turnout
from ..ballots.voiding import void_batch, voided_batches
from ..congress.setup import get_congress
from ..counting.actions import poll_actions  # the counting pages for this role and state
from ..errors import ServiceError
from ..extensions import db
from ..ids import id_or_none
from ..reports.pdf import pdf_response
from ..security import current_actor, roles, staff
from .committee import committee_route, is_committee_member
from .forms import committee_ids as _committee_ids_of
from .forms import form_from_poll, poll_data_from_form
from .services import (
    close_poll,
    create_poll,
    get_poll,
    open_poll,
    polls_of,
    settings_of,
    update_poll,
    warnings_of,
)

bp = Blueprint("polls", __name__)


def _counters():
    return [
        u
        for u in db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.username)
        )
        if u.has_role("counter")
    ]


@bp.get("/congresses/<int:cid>/polls")
@staff
def index(cid):
    congress = get_congress(cid)
    polls = polls_of(cid)
    counts = dict(
        db.session.execute(
            select(BallotToken.poll_id, func.count())
            .where(BallotToken.poll_id.in_([p.id for p in polls]))
            .group_by(BallotToken.poll_id)
        ).all()
    )
    cast = dict(
        db.session.execute(
            select(Ballot.poll_id, func.count())
            .where(Ballot.poll_id.in_([p.id for p in polls]))
            .group_by(Ballot.poll_id)
        ).all()
    )
    return render_template(
        "polls/index.html", congress=congress, polls=polls, issued=counts, cast=cast
    )


def _form_page(congress, values, poll=None, status=200):
    return render_template(
        "polls/form.html", congress=congress, poll=poll, values=values, counters=_counters()
    ), status


@bp.route("/congresses/<int:cid>/polls/new", methods=["GET", "POST"])
@roles("admin")
def new(cid):
    congress = get_congress(cid)
    if request.method == "POST":
        try:
            poll = create_poll(congress, poll_data_from_form(request.form), current_actor())
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _form_page(
                congress,
                request.form.to_dict() | {"counting_committee": _committee_ids_of(request.form)},
                status=422,
            )
        db.session.commit()
        flash(_("Poll created."), "ok")
        return redirect(url_for("polls.show", pid=poll.id))
    return _form_page(
        congress,
        {
            "kind": "committee",
            "seats": 1,
            "secrecy": "secret",
            "preset": "vn-party",
            "strict": "yes",
            "all_struck_valid": "",  # the preset's (vn-party: invalid, QĐ 244-QĐ/TW art. 17)
            "counting_committee": [],
        },
    )


@bp.route("/polls/<int:pid>/edit", methods=["GET", "POST"])
@roles("admin")
def edit(pid):
    poll = get_poll(pid)
    congress = get_congress(poll.congress_id)
    if poll.status != "draft":
        raise ServiceError(
            "candidates_frozen",
            _("The poll is open or over: its setup and candidates are frozen."),
            status=409,
        )
    if request.method == "POST":
        try:
            update_poll(poll, poll_data_from_form(request.form), current_actor())
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 409:
                raise
            flash(exc.message, "error")
            return _form_page(
                congress,
                request.form.to_dict() | {"counting_committee": _committee_ids_of(request.form)},
                poll=poll,
                status=422,
            )
        db.session.commit()
        flash(_("Poll saved."), "ok")
        return redirect(url_for("polls.show", pid=poll.id))
    return _form_page(congress, form_from_poll(poll), poll=poll)


@bp.get("/polls/<int:pid>")
@staff
def show(pid):
    poll = get_poll(pid)
    congress = get_congress(poll.congress_id)
    committee = [
        db.session.get(User, m.user_id)
        for m in sorted(poll.committee, key=lambda m: (not m.is_head, m.user_id))
    ]
    on_committee = is_committee_member(poll, current_actor())
    # the kept PDFs of the issued batches, downloadable again until the close (committee only)
    batches = kept_batches(poll.id) if on_committee and poll.status == "open" else []
    voided = voided_batches(poll.id) if on_committee else []
    return render_template(
        "polls/show.html",
        poll=poll,
        congress=congress,
        settings=settings_of(poll),
        turnout=turnout(poll),
        warnings=warnings_of(poll),
        committee=committee,
        on_committee=on_committee,
        batches=batches,
        voided_batches=voided,
        count_actions=poll_actions(poll, current_actor()),
    )


@bp.post("/polls/<int:pid>/open")
@roles("chair")
def open_(pid):
    poll = open_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    flash(_("The poll is open."), "ok")
    return redirect(url_for("polls.show", pid=poll.id))


@bp.post("/polls/<int:pid>/close")
@roles("chair")
def close(pid):
    poll = close_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    flash(_("The poll is closed; unused ballots are void."), "ok")
    return redirect(url_for("polls.show", pid=poll.id))


@bp.post("/polls/<int:pid>/ballots")
@roles("counter")
def issue(pid):
    poll = get_poll(pid)
    count = id_or_none((request.form.get("count") or "").strip())
    if count is None:
        raise ServiceError("bad_count", _("Enter how many ballots to issue."), status=422)
    issued, _pdf = issue_batch(poll, count, current_actor())
    db.session.commit()
    return render_template(
        "polls/issued.html",
        poll=poll,
        count=len(issued.codes),
        pdf_url=url_for("polls.slips_pdf", pid=poll.id, fid=issued.batch.id),
    )


@bp.post("/polls/<int:pid>/batches/<int:bid>/void")
@roles("counter")
@committee_route()  # the committee's guard before the form is read (even an unticked box)
def void_batch_view(pid, bid):
    """Void a batch's unused ballots (the committee, while the poll is open), after the
    confirmation box on the poll page is ticked."""
    poll = get_poll(pid)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the confirmation to void the batch."), "error")
        return redirect(url_for("polls.show", pid=pid))
    batch = void_batch(poll, bid, current_actor())
    db.session.commit()
    flash(
        _(
            "Batch %(n)s voided: %(voided)s unused ballots are void and may be issued again.",
            n=batch.id,
            voided=batch.voided_count or 0,
        ),
        "ok",
    )
    return redirect(url_for("polls.show", pid=pid))


@bp.get("/polls/<int:pid>/slips/<fid>.pdf")
@roles("counter")
@committee_route()  # the slips hold usable ballots: the poll's own committee only
def slips_pdf(pid, fid):
    """A batch's PDF (slips or paper ballots), as often as needed until the poll closes."""
    poll = get_poll(pid)
    data = batch_pdf(poll, id_or_none(fid), current_actor())
    db.session.commit()  # the download's audit event
    return pdf_response(data, f"slips-poll-{pid}-{fid}.pdf")
