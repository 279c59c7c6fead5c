"""Account pages: one's own password (/account), and the administrator's page of a user
(/users/<id>): name, title, roles, password reset, deactivation, revocation of sessions and
tokens. Registered on the auth blueprint (auth/views.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..congress.setup import get_congress
from ..errors import commit_or_flash
from ..extensions import db
from ..seal.keycard_pdf import issue_and_print, key_card_response
from ..seal.keycards import member_congresses
from ..security import current_actor, roles, staff
from . import accounts, sessions
from .forms import ChangePasswordForm, ProfileForm, ResetPasswordForm
from .models import User
from .views import bp


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _stay_signed_in(user: User) -> None:
    """After every session of `user` ended: this browser, if it is theirs, signs in anew (its old
    cookie, and any copy of it, stays dead)."""
    if current_actor() is not None and current_actor().id == user.id:
        sessions.start_session(user)


@bp.route("/account", methods=["GET", "POST"])
@staff
def account():
    user = current_actor()
    form = ChangePasswordForm()
    if form.validate_on_submit():

        def change():
            accounts.change_own_password(user, form.current_password.data, form.new_password.data)
            _stay_signed_in(user)

        done, _ignored = commit_or_flash(change)
        if done:
            flash(
                _("Password changed. Every other session and API token of yours has ended."), "ok"
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        key_cards=member_congresses(user) if user.has_role("counter") else [],
    )


@bp.post("/account/key-card/<int:cid>")
@roles("counter")
def print_key_card(cid: int):
    """Print one's own key card for congress `cid` (seal.keycards): a new card, served once,
    no-store; the same service as POST /api/v1/congresses/<cid>/key-card."""
    user = current_actor()
    data = issue_and_print(get_congress(cid), user)
    db.session.commit()
    return key_card_response(data, status=200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles("admin")
def user_page(user_id: int):
    user = _user_or_404(user_id)
    # On a POST the submitted values win over these.
    form = ProfileForm(full_name=user.full_name, title=user.title, roles=user.role_list)
    if form.validate_on_submit():
        done, _ignored = commit_or_flash(
            lambda: accounts.update_user(
                user,
                {
                    "full_name": form.full_name.data or "",
                    "title": form.title.data or "",
                    "roles": form.roles.data,
                },
                actor=current_actor(),
            )
        )
        if done:
            flash(_("User saved."), "ok")
            return redirect(url_for("auth.user_page", user_id=user.id))
    return render_template("auth/user.html", user=user, form=form, reset_form=ResetPasswordForm())


@bp.post("/users/<int:user_id>/password")
@roles("admin")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash(_("The password must have at least 8 characters."), "error")
    else:

        def reset():
            accounts.reset_password(user, form.password.data, actor=current_actor())
            _stay_signed_in(user)

        if commit_or_flash(reset)[0]:
            flash(_("Password reset. Every session and API token of the user has ended."), "ok")
    return redirect(url_for("auth.user_page", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@roles("admin")
def deactivate(user_id: int):
    user = _user_or_404(user_id)
    if commit_or_flash(lambda: accounts.set_active(user, False, actor=current_actor()))[0]:
        flash(
            _(
                "User deactivated: they cannot sign in, and every session and API token of "
                "theirs has ended. Kiosks they enrolled keep working."
            ),
            "ok",
        )
    return redirect(url_for("auth.user_page", user_id=user.id))


@bp.post("/users/<int:user_id>/activate")
@roles("admin")
def activate(user_id: int):
    user = _user_or_404(user_id)
    if commit_or_flash(lambda: accounts.set_active(user, True, actor=current_actor()))[0]:
        flash(_("User reactivated."), "ok")
    return redirect(url_for("auth.user_page", user_id=user.id))


@bp.post("/users/<int:user_id>/revoke-tokens")
@roles("admin")
def revoke_tokens(user_id: int):
    user = _user_or_404(user_id)

    def revoke():
        accounts.revoke_tokens(user, actor=current_actor())
        _stay_signed_in(user)

    if commit_or_flash(revoke)[0]:
        flash(_("Every session and API token of the user has ended."), "ok")
    return redirect(url_for("auth.user_page", user_id=user.id))
