"""The audit log page: verify the chain, browse it as people read it (names, labels, details in
words: audit/details.py), filter by poll, user and action, export as JSON lines."""

from flask import Blueprint, Response, render_template, request

from ..ids import id_or_none
from ..security import roles
from .details import describe, filter_choices, search
from .labels import action_choices
from .services import export_jsonl, verify_chain

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles("admin", "counter", "chair", "observer")
def index():
    report = verify_chain()
    poll_id = id_or_none(request.args.get("poll"))
    user_id = id_or_none(request.args.get("user"))
    action = (request.args.get("action") or "").strip()[:60] or None
    page = request.args.get("page", "1")
    page_n = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    events, more = search(poll_id, user_id, action, page_n)
    filters = {"poll": poll_id, "user": user_id, "action": action}
    return render_template(
        "audit/index.html",
        report=report,
        events=describe(events),
        filters=filters,
        page=page_n,
        more=more,
        choices=filter_choices(),
        actions=action_choices(),
    )


@bp.get("/export.jsonl")
@roles("admin", "counter", "chair", "observer")
def export():
    return Response(
        "".join(export_jsonl()),
        mimetype="application/x-ndjson",
        headers={"Content-Disposition": "attachment; filename=audit.jsonl"},
    )
