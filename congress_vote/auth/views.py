"""Staff sign-in and user administration."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from ..audit.services import record
from ..errors import ServiceError, commit_or_flash
from ..extensions import db, limiter, login_manager
from ..security import current_actor, public, roles, staff
from . import devices, sessions
from .accounts import sign_in
from .forms import LoginForm, UserForm
from .services import create_user, list_users
from .throttle import client_address

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str):
    return sessions.user_for_session(user_id)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@public
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = sign_in(form.username.data, form.password.data, client_address())
        except ServiceError as err:
            db.session.commit()  # keep the record of the failure (nothing is written on a 429)
            flash(err.message, "error")
            status = err.status if err.status == 429 else 200
        else:
            sessions.prune(user.id)
            sessions.start_session(user)
            db.session.commit()
            login_user(user)
            resp = redirect(_safe_next(request.args.get("next")))
            devices.remember(resp, user.username)
            return resp
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@staff
def logout():
    actor = current_actor()
    sessions.end_current_session()
    record("auth.logout", actor=actor, data={"user_id": getattr(actor, "id", None)})
    db.session.commit()
    logout_user()
    return redirect(url_for("main.index"))


@bp.route("/users", methods=["GET", "POST"])
@roles("admin")
def users():
    form = UserForm()
    if form.validate_on_submit():
        done, _ignored = commit_or_flash(
            lambda: create_user(
                form.username.data,
                form.password.data,
                form.roles.data,
                full_name=form.full_name.data or "",
                actor=current_actor(),
                title=form.title.data or "",
            )
        )
        if done:
            flash(_("User created."), "ok")
            return redirect(url_for("auth.users"))
    return render_template("auth/users.html", form=form, users=list_users())
