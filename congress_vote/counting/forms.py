"""Forms of the counting workspace."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange


class PaperPrintForm(FlaskForm):
    """How many full paper ballots to issue and print."""

    count = IntegerField(
        _l("Number of paper ballots"), validators=[InputRequired(), NumberRange(min=1, max=2000)]
    )
    size = SelectField(_l("Paper size"), choices=[("A4", "A4"), ("A5", "A5")], default="A4")


class HandCountForm(FlaskForm):
    """The per-item counts are plain inputs named for-<id>, against-<id>, abstain-<id>."""
