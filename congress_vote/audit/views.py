"""The audit log page: verify the chain, browse, export as JSON lines."""

from flask import Blueprint, Response, render_template
from sqlalchemy import select

from ..extensions import db
from ..security import roles
from .models import AuditEvent
from .services import export_jsonl, verify_chain

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles("admin", "counter", "chair", "observer")
def index():
    report = verify_chain()
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200)))
    return render_template("audit/index.html", report=report, events=events)


@bp.get("/export.jsonl")
@roles("admin", "counter", "chair", "observer")
def export():
    return Response(
        "".join(export_jsonl()),
        mimetype="application/x-ndjson",
        headers={"Content-Disposition": "attachment; filename=audit.jsonl"},
    )
