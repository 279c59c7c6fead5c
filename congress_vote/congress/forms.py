"""Forms of the congress pages (Flask-WTF: CSRF included)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class CongressForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=300)])
    term = StringField(_l("Term"), validators=[Length(max=50)])
    venue = StringField(_l("Venue"), validators=[Length(max=300)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    kind = SelectField(
        _l("Kind"),
        choices=[("members", _l("Members' congress")), ("delegates", _l("Delegates' congress"))],
    )
    quorum_fraction = StringField(
        _l("Quorum (fraction of voters summoned)"),
        default="2/3",
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d+\s*/\s*\d+\s*$", message=_l("Write a fraction such as 2/3.")),
        ],
    )
    kiosk_only = BooleanField(_l("Votes only from enrolled kiosks"), default=True)
    time_zone = StringField(
        _l("Time zone of the printed times"),
        default="Asia/Ho_Chi_Minh",
        validators=[Length(max=64)],
    )


class BranchForm(FlaskForm):
    branch_name = StringField(_l("New branch"), validators=[DataRequired(), Length(max=300)])


class DelegateForm(FlaskForm):
    code = StringField(_l("List code"), validators=[DataRequired(), Length(max=50)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    branch = StringField(_l("Branch"), validators=[DataRequired(), Length(max=300)])
    membership = SelectField(
        _l("Membership"),
        choices=[("full", _l("Full member")), ("probationary", _l("Probationary member"))],
    )
    gender = SelectField(
        _l("Gender"),
        choices=[("", "—"), ("M", _l("Male")), ("F", _l("Female"))],
        validators=[Optional()],
    )
    birth_year = IntegerField(_l("Birth year"), validators=[Optional()])
    position = StringField(_l("Position"), validators=[Length(max=200)])


class ImportForm(FlaskForm):
    file = FileField(_l("Delegate list (CSV or XLSX)"), validators=[FileRequired()])
