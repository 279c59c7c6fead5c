"""HTML views: the counting committee's workspace (result, review, paper entry, hand count,
sign-off, minutes, next round). Thin: parse, call the counting services, commit, render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..ballots.issuing import issue_batch
from ..errors import ServiceError, commit_or_flash
from ..extensions import db
from ..polls.committee import committee_route, is_committee_member
from ..polls.services import get_poll
from ..polls.status import COUNTED_OR_LATER
from ..reports.pdf import pdf_response
from ..seal.sealing import seal_view
from ..security import current_actor, roles
from . import rounds
from .count import count_poll
from .forms import HandCountForm, PaperPrintForm
from .hand_count import enter_hand_count
from .inputs import attendance_snapshot, hand_counts
from .minutes import committee, entry_log_pdf, minutes_pdf
from .paper_disputes import paper_queue
from .paper_entry import (
    PAPER_INVALID_REASONS,
    can_settle,
    enter_paper_ballot,
    pending_paper,
    settle_dispute,
)
from .paper_figures import has_paper_entries, paper_figures
from .paper_marks import agree_ballot, marks_from_form
from .paper_returns import record_paper_return
from .results import result_dict, stored_result
from .review import review_ballots
from .rounds import create_round
from .signoff import set_complaints, sign_result, signature_rows

bp = Blueprint("counting", __name__)


def _back(pid, endpoint="counting.result", **kw):
    return redirect(url_for(endpoint, pid=pid, **kw))


def _ints(values) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise ServiceError("bad_request", _("Malformed form."), status=400) from None
    return out


@bp.get("/polls/<int:pid>/count")
@roles("admin", "counter", "chair", "observer")
def result(pid):
    poll = get_poll(pid)
    res = None
    if poll.status in COUNTED_OR_LATER or stored_result(poll):
        res = result_dict(poll)
    # The proposal looks at every round of the election (counting.rounds), so round 1 and the
    # latest round both offer what is still to decide (e.g. the alternates after a tie round).
    proposal = rounds.chain_proposal(poll) if res and not res["stale"] else None
    actor = current_actor()
    return render_template(
        "counting/result.html",
        poll=poll,
        res=res,
        proposal=proposal,
        proposal_rows=_proposal_rows(proposal),
        later=rounds.later_round(poll),
        earlier=get_poll(poll.parent_id) if poll.parent_id else None,
        pending=pending_paper(poll),
        on_committee=is_committee_member(poll, actor),
        paper=paper_figures(poll) if poll.secrecy == "secret" else None,
        paper_frozen=has_paper_entries(poll),
        signed=bool(res and any(s["user_id"] == actor.id for s in res["signoffs"])),
        seal=seal_view(poll),
        names={c.id: c.full_name for c in poll.candidates},
        members=committee(poll),
        signature_rows=signature_rows(poll),
    )


def _proposal_rows(proposal) -> list[dict]:
    """The candidates of the round a proposal names, with their votes there, ticked as
    proposed."""
    if not proposal:
        return []
    votes = {
        c["id"]: c["votes"] for c in (stored_result(proposal.source) or {}).get("candidates", [])
    }
    return [
        {
            "id": c.id,
            "full_name": c.full_name,
            "votes": votes.get(c.id, 0),
            "checked": c.id in proposal.candidate_ids,
        }
        for c in proposal.source.candidates
    ]


@bp.post("/polls/<int:pid>/count")
@roles("counter")
@committee_route()
def count(pid):
    """Count (a sealed poll's first count opens its box with the opening codes collected in
    the page: fields `opening_code`, one per member present)."""
    poll = get_poll(pid)
    codes = [c for c in request.form.getlist("opening_code") if c.strip()]
    done, _result = commit_or_flash(lambda: count_poll(poll, current_actor(), codes))
    if done:
        flash(_("Counted. Check the figures, then sign."), "ok")
    return _back(pid)


@bp.post("/polls/<int:pid>/paper-returns")
@roles("counter")
@committee_route()
def paper_returns(pid):
    """The count page's form: the unused paper ballots collected back (counting.paper_returns)."""
    poll = get_poll(pid)
    record_paper_return(poll, request.form.get("unused", ""), current_actor())
    db.session.commit()
    flash(_("Paper return recorded: paper ballots can now be entered."), "ok")
    return _back(pid)


@bp.post("/polls/<int:pid>/sign")
@roles("counter")
def sign(pid):
    poll = get_poll(pid)
    sign_result(
        poll, current_actor(), request.form.get("digest", ""), request.form.get("signing_code", "")
    )
    db.session.commit()
    flash(
        _("Your signature is recorded.")
        if poll.status != "certified"
        else _("All signatures are in: the result is certified."),
        "ok",
    )
    return _back(pid)


@bp.post("/polls/<int:pid>/complaints")
@roles("counter")
def complaints(pid):
    poll = get_poll(pid)
    set_complaints(poll, request.form.get("complaints", ""), current_actor())
    db.session.commit()
    flash(_("Saved."), "ok")
    return _back(pid)


@bp.post("/polls/<int:pid>/next-round")
@roles("admin")
def next_round(pid):
    poll = get_poll(pid)
    ids = _ints(request.form.getlist("candidate_ids"))
    seats = _ints([request.form.get("seats", "0")])[0]
    alt = _ints([request.form.get("alternate_seats", "0") or "0"])[0]
    names = [n for n in (request.form.get("new_names") or "").splitlines() if n.strip()]
    new = create_round(poll, ids, seats, current_actor(), new_names=names, alternate_seats=alt)
    db.session.commit()
    flash(_("Round %(n)s created as a draft poll.", n=new.round), "ok")
    target = url_for("polls.show", pid=new.id) if "polls.show" in _endpoints() else None
    return redirect(target or url_for("counting.result", pid=new.id))


def _endpoints():
    from flask import current_app

    return current_app.view_functions


@bp.get("/polls/<int:pid>/ballots")
@roles("counter", "chair", "observer")
@committee_route(readers=("chair", "observer"))
def review(pid):
    poll = get_poll(pid)
    page = request.args.get("page", 1, type=int) or 1
    validity = request.args.get("validity", "")
    reason = request.args.get("reason", "")
    source = request.args.get("source", "")
    data = review_ballots(poll, page=page, validity=validity, reason=reason, source=source)
    return render_template(
        "counting/review.html",
        poll=poll,
        data=data,
        validity=validity,
        reason=reason,
        source=source,
    )


@bp.get("/polls/<int:pid>/paper")
@roles("counter")
@committee_route()
def paper(pid):
    return _paper_page(get_poll(pid))


def _paper_page(poll, form: dict | None = None, status: int = 200):
    """The paper entry page; `form` is the entry the server refused, shown again as it was (the
    code, the names struck, the reason), so a refusal never loses the counter's work."""
    form = form or {
        "code": (request.args.get("code") or "")[:40],
        "settle": request.args.get("settle") == "1",
    }
    return render_template(
        "counting/paper.html",
        form=form,
        poll=poll,
        agree=agree_ballot(poll),
        queue=paper_queue(poll),
        pending=pending_paper(poll),
        reasons=PAPER_INVALID_REASONS,
        can_settle=can_settle(poll, current_actor()),
        on_committee=is_committee_member(poll, current_actor()),
        print_form=PaperPrintForm(),
        settle=form["settle"],
        paper=paper_figures(poll),
    ), status


@bp.post("/polls/<int:pid>/paper")
@roles("counter")
def paper_enter(pid):
    poll = get_poll(pid)
    code = request.form.get("code", "")
    reason = request.form.get("invalid_reason") or None
    kept = answers = marks = None
    if not reason:
        if agree_ballot(poll):
            marks = marks_from_form(poll, request.form)
        elif poll.kind == "resolution":
            answers = {
                str(i.id): request.form.get(f"item-{i.id}")
                for i in poll.items
                if request.form.get(f"item-{i.id}")
            }
        else:
            kept = _ints(request.form.getlist("kept"))
    settle = request.form.get("settle") == "1"
    fn = settle_dispute if settle else enter_paper_ballot
    try:
        entry = fn(
            poll,
            code,
            current_actor(),
            kept=kept,
            answers=answers,
            invalid_reason=reason,
            marks=marks,
        )
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        if err.status in (401, 403) or not is_committee_member(poll, current_actor()):
            raise  # the page (its queue of codes) is for the committee only
        flash(err.message, "error")
        kept_ticked = _ints(request.form.getlist("kept"))
        state = {"code": code[:40], "settle": settle, "kept": kept_ticked, "answers": answers}
        state.update({"marks": marks, "invalid_reason": reason})
        return _paper_page(get_poll(pid), state, err.status)
    msg = {
        "pending": _("Entry saved. A second counter must enter this ballot too."),
        "agreed": _("Both entries agree: the ballot is counted."),
        "disputed": _("The two entries disagree: the committee must settle this ballot."),
    }
    flash(msg.get(entry.state, _("Saved.")), "ok" if entry.state != "disputed" else "warn")
    return _back(pid, "counting.paper")


@bp.post("/polls/<int:pid>/paper/print")
@roles("counter")
def paper_print(pid):
    poll = get_poll(pid)
    form = PaperPrintForm()
    if not form.validate_on_submit():
        raise ServiceError(
            "bad_count", _("Give a number of ballots between 1 and 2000."), status=422
        )
    # Rendered before the commit and kept (sealed) until the close: downloadable again from
    # the poll page or GET /api/v1/polls/<pid>/batches/<batch_id>.pdf.
    _issued, pdf = issue_batch(
        poll, form.count.data, current_actor(), kind="paper", size=form.size.data
    )
    db.session.commit()
    return pdf_response(pdf, f"phieu-bau-{poll.id}.pdf")


@bp.get("/polls/<int:pid>/entry-log.pdf")
@roles("counter")
@committee_route()  # each entry by ballot code: the committee's archive, nobody else's
def entry_log(pid):
    poll = get_poll(pid)
    return pdf_response(
        entry_log_pdf(poll, request.args.get("lang")), f"nhat-ky-nhap-phieu-{poll.id}.pdf"
    )


@bp.get("/polls/<int:pid>/minutes.pdf")
@roles("counter", "chair")
@committee_route(readers=("chair",))
def minutes(pid):
    poll = get_poll(pid)
    return pdf_response(
        minutes_pdf(poll, request.args.get("lang")), f"bien-ban-kiem-phieu-{poll.id}.pdf"
    )


@bp.route("/polls/<int:pid>/hand-count", methods=["GET", "POST"])
@roles("counter")
@committee_route()
def hand_count(pid):
    poll = get_poll(pid)
    form = HandCountForm()
    if request.method == "POST":
        items = {}
        for i in poll.items:
            items[str(i.id)] = {
                k: _ints([request.form.get(f"{k}-{i.id}") or "0"])[0]
                for k in ("for", "against", "abstain")
            }
        enter_hand_count(poll, items, current_actor())
        db.session.commit()
        flash(_("Hand count saved."), "ok")
        return _back(pid)
    current = {h.item_id: h for h in hand_counts(poll)}
    present = attendance_snapshot(poll).get("voters_present", 0)
    return render_template(
        "counting/hand_count.html", poll=poll, form=form, current=current, present=present
    )
