"""Helpers for API handlers: documented routes, JSON bodies, JSON answers."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from ..errors import ServiceError
from ..ids import parse_id, parse_ids


def doc(summary: str, body: dict | None = None, response: dict | None = None,
        statuses: tuple[int, ...] = (200,), body_content: str = "application/json",
        produces: str = "application/json", tag: str | None = None):
    """Attach the OpenAPI description of a route. Every /api/ route must carry one."""
    def deco(view):
        view.__openapi__ = {"summary": summary, "body": body, "response": response,
                            "statuses": statuses, "body_content": body_content,
                            "produces": produces, "tag": tag}
        return view
    return deco


def json_body(required: tuple[str, ...] = ()) -> dict:
    """The request's JSON object, or a 400 naming what is wrong (never a 500)."""
    if not request.is_json:
        raise ServiceError("bad_request",
                           _("Send a JSON object with Content-Type: application/json."),
                           status=400)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("bad_request", _("The body must be a JSON object."), status=400)
    if has_huge_int(data):
        # Ids and counts are database INTEGERs: 10**20 would end as OverflowError/DataError (500).
        raise ServiceError("out_of_range", _("A number in the body is out of range."), status=422)
    missing = [k for k in required if k not in data]
    if missing:
        raise ServiceError("bad_request",
                           _("Missing field(s): %(fields)s.", fields=", ".join(missing)),
                           status=400)
    return data


_INT_LIMIT = 2**31 - 1


def has_huge_int(value, depth: int = 0) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -_INT_LIMIT - 1 <= value <= _INT_LIMIT
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(has_huge_int(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_huge_int(v, depth + 1) for v in value)
    return False


def field(data: dict, name: str, kind, required: bool = True, default=None):
    """One typed field of a JSON body; 400 with the field's name when it has the wrong type."""
    if name not in data or data[name] is None:
        if required:
            raise ServiceError("bad_request", _("Missing field: %(field)s.", field=name),
                               status=400)
        return default
    value = data[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ServiceError("bad_request", _("%(field)s must be an integer.", field=name),
                           status=400)
    if kind is not int and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ServiceError("bad_request", _("%(field)s must be of type %(types)s.",
                                             field=name, types=names), status=400)
    return value


def ids_field(data: dict, name: str, required: bool = True, default=None) -> list[int] | None:
    """A list of ids in a JSON body: 400 when it is not a list, 422 `bad_id` when an element is
    not an id (congress_vote/ids.py)."""
    value = field(data, name, list, required=required, default=default)
    return value if value is None else parse_ids(value, name)


def check_id_keys(value, name: str) -> None:
    """422 `bad_id` when a key of the JSON object `value` ({id: ...}) is not an id."""
    if isinstance(value, dict):
        for key in value:
            parse_id(key, name)


def ok(obj, status: int = 200):
    resp = jsonify(obj)
    resp.status_code = status
    return resp
