"""HTML views: congress setup, delegate registry, import/export, cards (the check-in desk:
checkin_views.py).

Thin: parse, call the congress services (setup, delegates, cards, importing), commit, render.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..errors import ServiceError, commit_or_flash
from ..exports import csv_bytes, xlsx_bytes
from ..extensions import db
from ..security import current_actor, roles, staff
from .attendance import attendance
from .cards import reissue_card
from .delegates import (
    EXPORT_HEADER,
    add_delegate,
    delegate_page,
    export_rows,
    get_delegate,
    namesakes_of,
    update_delegate,
)
from .forms import BranchForm, CongressForm, DelegateForm, ImportForm
from .importing import column_label
from .importing import import_delegates_report as import_list
from .setup import add_branch as add_branch_to
from .setup import create_congress, get_congress, update_congress

bp = Blueprint("congress", __name__)


def congress_or_404(cid: int):
    try:
        return get_congress(cid)
    except ServiceError:
        abort(404, _("No such congress."))


def delegate_or_404(congress, did: int):
    try:
        return get_delegate(congress, did)
    except ServiceError:
        abort(404, _("No such delegate in this congress."))


def _form_data(form: CongressForm) -> dict:
    return {
        k: getattr(form, k).data
        for k in (
            "name",
            "organisation",
            "term",
            "venue",
            "starts_on",
            "ends_on",
            "kind",
            "quorum_fraction",
            "kiosk_only",
            "time_zone",
        )
    }


# ---- congress --------------------------------------------------------------------------------


@bp.route("/congresses/new", methods=["GET", "POST"])
@roles("admin")
def new():
    form = CongressForm()
    if form.validate_on_submit():
        done, c = commit_or_flash(lambda: create_congress(_form_data(form), actor=current_actor()))
        if done:
            flash(_("Congress created. Now import the delegate list."), "ok")
            return redirect(url_for("congress.show", cid=c.id))
    return render_template("congress/form.html", form=form, congress=None)


@bp.get("/congresses/<int:cid>")
@staff
def show(cid: int):
    c = congress_or_404(cid)
    return render_template("congress/show.html", congress=c, figures=attendance(c))


@bp.route("/congresses/<int:cid>/edit", methods=["GET", "POST"])
@roles("admin")
def edit(cid: int):
    c = congress_or_404(cid)
    form = CongressForm(obj=c)
    branch_form = BranchForm(prefix="b")
    if form.validate_on_submit():
        done, _ignored = commit_or_flash(
            lambda: update_congress(c, _form_data(form), actor=current_actor())
        )
        if done:
            flash(_("Saved."), "ok")
            return redirect(url_for("congress.show", cid=c.id))
    return render_template("congress/form.html", form=form, congress=c, branch_form=branch_form)


@bp.post("/congresses/<int:cid>/branches")
@roles("admin")
def add_branch(cid: int):
    c = congress_or_404(cid)
    form = BranchForm(prefix="b")
    if form.validate_on_submit():
        done, _ignored = commit_or_flash(
            lambda: add_branch_to(c, form.branch_name.data or "", actor=current_actor())
        )
        if done:
            flash(_("Branch added."), "ok")
    else:
        flash(_("Give the branch a name."), "error")
    return redirect(url_for("congress.edit", cid=c.id))


# ---- delegates -------------------------------------------------------------------------------

PAGE_SIZE = 100  # delegates per page of the list (2,000 delegates: 20 pages)


def _flash_namesakes(d) -> None:
    others = namesakes_of(d)
    if others:
        flash(
            _(
                "Namesake: %(name)s is also the name of %(others)s. They are told apart by code "
                "and branch.",
                name=d.full_name,
                others="; ".join(f"{o.code} ({o.branch_name})" for o in others),
            ),
            "warn",
        )


@bp.get("/congresses/<int:cid>/delegates")
@staff
def delegates(cid: int):
    c = congress_or_404(cid)
    q = request.args.get("q", "")[:100]
    branch_id = request.args.get("branch", type=int)
    status = request.args.get("status") or None
    membership = request.args.get("membership") or None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    items, matching = delegate_page(
        c, q, branch_id, status, membership, (page - 1) * PAGE_SIZE, PAGE_SIZE
    )
    return render_template(
        "congress/delegates.html",
        congress=c,
        delegates=items,
        page=page,
        pages=max(1, -(-matching // PAGE_SIZE)),
        matching=matching,
        first=(page - 1) * PAGE_SIZE,
        q=q,
        branch_id=branch_id,
        status=status,
        membership=membership,
        import_form=ImportForm(),
        total=attendance(c)["summoned"],
    )


@bp.route("/congresses/<int:cid>/delegates/new", methods=["GET", "POST"])
@roles("admin")
def delegate_new(cid: int):
    c = congress_or_404(cid)
    form = DelegateForm()
    if form.validate_on_submit():
        done, d = commit_or_flash(lambda: add_delegate(c, form.data, actor=current_actor()))
        if done:
            flash(_("Delegate added."), "ok")
            _flash_namesakes(d)
            return redirect(url_for("congress.delegates", cid=c.id))
    return render_template("congress/delegate_form.html", congress=c, form=form, delegate=None)


@bp.route("/congresses/<int:cid>/delegates/<int:did>/edit", methods=["GET", "POST"])
@roles("admin")
def delegate_edit(cid: int, did: int):
    c = congress_or_404(cid)
    d = delegate_or_404(c, did)
    form = DelegateForm(
        data=None
        if request.method == "POST"
        else {
            "code": d.code,
            "full_name": d.full_name,
            "branch": d.branch_name,
            "membership": d.membership,
            "gender": d.gender or "",
            "birth_year": d.birth_year,
            "position": d.position or "",
        }
    )
    if form.validate_on_submit():
        done, _ignored = commit_or_flash(
            lambda: update_delegate(d, form.data, actor=current_actor())
        )
        if done:
            flash(_("Saved."), "ok")
            _flash_namesakes(d)
            return redirect(url_for("congress.delegates", cid=c.id))
    return render_template("congress/delegate_form.html", congress=c, form=form, delegate=d)


@bp.post("/congresses/<int:cid>/delegates/<int:did>/reissue")
@roles("admin")
def reissue(cid: int, did: int):
    """Cancel a lost card and answer the new printed card (PDF): the new code is shown on no
    page, only on the card."""
    from ..reports.pdf import pdf_response
    from .printing import cards_pdf

    c = congress_or_404(cid)
    d = delegate_or_404(c, did)
    reissue_card(d, actor=current_actor())
    pdf = cards_pdf(c, [d])  # rendered before the commit: a failed render reissues nothing
    db.session.commit()
    return pdf_response(pdf, f"card-{d.id}.pdf")


@bp.get("/congresses/<int:cid>/delegates/<int:did>/card.pdf")
@roles("admin")
def delegate_card(cid: int, did: int):
    from ..reports.pdf import pdf_response
    from .printing import cards_pdf

    c = congress_or_404(cid)
    d = delegate_or_404(c, did)
    return pdf_response(cards_pdf(c, [d]), f"card-{d.id}.pdf")


@bp.route("/congresses/<int:cid>/import", methods=["GET", "POST"])
@roles("admin")
def import_delegates(cid: int):
    c = congress_or_404(cid)
    form = ImportForm()
    rows = None
    message = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            # The upload's name is only recorded, never used as a path.
            n, warnings = import_list(
                c, upload.read(), filename=upload.filename or "", actor=current_actor()
            )
            db.session.commit()
        except ServiceError as err:
            db.session.rollback()
            rows = err.extra.get("rows") or []
            message = err.message
        else:
            flash(_("%(n)d delegates imported.", n=n), "ok")
            for w in warnings[:50]:
                flash(_("Row %(row)s: %(message)s", row=w["row"], message=w["message"]), "warn")
            if len(warnings) > 50:
                flash(_("… and %(n)s more namesakes.", n=len(warnings) - 50), "warn")
            return redirect(url_for("congress.delegates", cid=c.id))
    elif request.method == "POST":
        message = _("Choose a CSV or XLSX file.")
    status = 422 if message else 200
    return render_template(
        "congress/import.html",
        congress=c,
        form=form,
        rows=rows,
        message=message,
        column_label=column_label,
    ), status


@bp.get("/congresses/<int:cid>/delegates/export/<fmt>")
@staff
def export_delegates(cid: int, fmt: str):
    c = congress_or_404(cid)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    rows = list(export_rows(c))
    if fmt == "csv":
        data, mime = csv_bytes(EXPORT_HEADER, rows), "text/csv; charset=utf-8"
    else:
        data = xlsx_bytes(EXPORT_HEADER, rows, title="delegates")
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    out = current_app.response_class(data, mimetype=mime)
    out.headers["Content-Disposition"] = f'attachment; filename="delegates-{c.id}.{fmt}"'
    return out


@bp.get("/congresses/<int:cid>/cards.pdf")
@roles("admin")
def cards(cid: int):
    from ..reports.pdf import pdf_response
    from .printing import cards_pdf

    c = congress_or_404(cid)
    return pdf_response(cards_pdf(c), f"cards-{c.id}.pdf")


@bp.get("/congresses/<int:cid>/attendance.pdf")
@staff
def attendance_report(cid: int):
    from ..reports.pdf import pdf_response
    from .printing import attendance_pdf

    c = congress_or_404(cid)
    return pdf_response(attendance_pdf(c), f"attendance-{c.id}.pdf")
