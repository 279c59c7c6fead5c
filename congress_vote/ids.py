"""Reading ids from hostile input: JSON bodies, JSON object keys, query strings and form fields.

An id is a positive integer that fits the database's INTEGER (1 … 2**31 − 1), sent as a JSON
number or, where JSON needs text (object keys, query strings, forms), as plain ASCII digits.
Everything else — "²", "١", "５", "1e3", 1.5, true, null, −1, 10**20 — is a malformed id and
answers 422 `bad_id` naming the field, never a 500 (`int("²")` raises after `"²".isdigit()`,
and `int("５")` quietly reads 5).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from .errors import ServiceError

ID_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def bad_id(what: str) -> ServiceError:
    return ServiceError(
        "bad_id", _("%(field)s must be an id (a positive whole number).", field=what), status=422
    )


def id_or_none(value: Any) -> int | None:
    """The id `value` holds, or None when it is not one (see the module docstring)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= ID_MAX:
        return value
    return None


def parse_id(value: Any, what: str) -> int:
    """The id `value` holds; 422 `bad_id` naming `what` otherwise."""
    number = id_or_none(value)
    if number is None:
        raise bad_id(what)
    return number


def parse_ids(values: Any, what: str) -> list[int]:
    """A JSON list of ids; 400 when it is not a list, 422 `bad_id` when an element is no id."""
    if not isinstance(values, list):
        raise ServiceError(
            "bad_request", _("%(field)s must be a list of ids.", field=what), status=400
        )
    return [parse_id(v, what) for v in values]


def check_ids(ids, what: str) -> None:
    """422 `bad_id` when an already-integer id is out of the database's range (≤ 0 or huge)."""
    for value in ids:
        if id_or_none(value) is None:
            raise bad_id(what)
