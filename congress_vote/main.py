"""Home page and language switch."""

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from .congress.models import Congress
from .extensions import db
from .security import current_actor, public

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():
    congresses = list(db.session.scalars(select(Congress).order_by(Congress.id.desc())))
    return render_template("index.html", congresses=congresses, actor=current_actor())


@bp.get("/lang/<code>")
@public
def set_language(code: str):
    if code in ("vi", "en"):
        session["lang"] = code
    target = request.args.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")  # never an open redirect
    return redirect(target)
