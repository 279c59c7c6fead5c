from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .roles import ROLES

# The same words as templates/_macros.html role_names().
ROLE_LABELS = {
    "admin": _l("administrator"),
    "registrar": _l("registrar"),
    "counter": _l("counter"),
    "chair": _l("presidium"),
    "observer": _l("observer"),
}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    title = StringField(_l("Title (office held)"), validators=[Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[(r, ROLE_LABELS.get(r, r)) for r in ROLES],
        validators=[DataRequired()],
    )


class ProfileForm(FlaskForm):
    """An administrator edits a user's name, title and roles."""

    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    title = StringField(_l("Title (office held)"), validators=[Length(max=200)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[(r, ROLE_LABELS.get(r, r)) for r in ROLES],
        validators=[DataRequired()],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("new_password")]
    )
