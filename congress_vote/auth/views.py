"""Staff sign-in and user administration."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from ..errors import commit_or_flash
from ..extensions import db, limiter, login_manager
from ..security import public, roles, staff
from .forms import LoginForm, UserForm
from .models import User
from .services import authenticate, create_user, list_users

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if user is None:
            flash(_("Wrong username or password."), "error")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@staff
def logout():
    logout_user()
    return redirect(url_for("main.index"))


@bp.route("/users", methods=["GET", "POST"])
@roles("admin")
def users():
    form = UserForm()
    if form.validate_on_submit():
        from ..security import current_actor
        done, _ignored = commit_or_flash(lambda: create_user(
            form.username.data, form.password.data, form.roles.data,
            full_name=form.full_name.data or "", actor=current_actor()))
        if done:
            flash(_("User created."), "ok")
            return redirect(url_for("auth.users"))
    return render_template("auth/users.html", form=form, users=list_users())
