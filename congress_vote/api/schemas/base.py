"""The building blocks of the API's schemas: strict JSON fields, loading a request body into a
schema with the API's error contract, dumping an answer through a schema.

One marshmallow schema per request body and per answer shape: the same declaration validates
the request, shapes the answer and (through apispec, api/openapi.py) becomes the OpenAPI
document. The error contract (see docs/api.md):

- a body that is not a JSON object: 400 `bad_request` (api/util.py `json_body`);
- a number beyond the database's INTEGER: 422 `out_of_range`;
- a missing field or one of the wrong JSON type: 400 `bad_request`, naming the field
  (``candidates.0.full_name``);
- a malformed id (``Id``): 422 `bad_id` naming the field (congress_vote/ids.py);
- a rule broken (a value the right type but not allowed): 422, with the service's own code; the
  rules stay in the services, so a schema's ``enum``/``minimum`` metadata only documents them.

Fields never coerce: "5" is no integer, 1 is no boolean, 1.5 is no id.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from ...errors import ServiceError
from ...ids import bad_id, parse_id
from ..util import json_body, ok

_INT_LIMIT = 2**31 - 1
_MISSING = "\x00missing"
_TYPE = "\x00type:"


class _Strict:
    """Turns marshmallow's errors into markers `load` maps to the API's translated messages."""

    kind = "value"

    def make_error(self, key: str, **kwargs) -> ValidationError:
        if key in ("required", "null"):
            return ValidationError(_MISSING)
        return ValidationError(_TYPE + self.kind)


class Str(_Strict, fields.String):
    kind = "string"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class Int(_Strict, fields.Integer):
    """A JSON integer (never a bool, a float or a numeric string) within the database's range."""

    kind = "integer"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        if not -_INT_LIMIT - 1 <= value <= _INT_LIMIT:
            raise ServiceError(
                "out_of_range", _("A number in the body is out of range."), status=422
            )
        return value


class Id(Int):
    """An id (1 … 2**31 − 1, a JSON number or plain ASCII digits): 422 `bad_id` otherwise."""

    kind = "id"

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("minimum", 1)
        super().__init__(**kwargs)

    def make_error(self, key: str, **kwargs) -> ValidationError:
        if key == "null":  # null where an id must be (a list's element): a malformed id
            raise bad_id(self.name or "id")
        return super().make_error(key, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_id(value, self.name or attr or "id")


class IdKey(Str):
    """A JSON object's key that must be an id ({item_id: ...}): 422 `bad_id` naming `what`
    otherwise; loaded as sent (the services read the keys themselves)."""

    def __init__(self, what: str, **kwargs):
        self.what = what
        kwargs.setdefault("metadata", {}).setdefault("pattern", r"^[0-9]{1,10}$")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parse_id(value, self.what)
        return value


class Bool(_Strict, fields.Boolean):
    kind = "boolean"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class List(_Strict, fields.List):
    kind = "list"


class Dict(_Strict, fields.Dict):
    kind = "object"


class Nested(_Strict, fields.Nested):
    kind = "object"


Raw = fields.Raw


class Body(Schema):
    """A request body: unknown keys are ignored, as they always were."""

    class Meta:
        unknown = EXCLUDE


class Answer(Schema):
    """An answer's shape (dumped, never loaded): a dict's keys only, never its methods (a
    missing "items" key is left out, not read as dict.items)."""

    def get_attribute(self, obj, attr, default):
        if isinstance(obj, dict):
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)


class ErrorDetail(Answer):
    code = Str(required=True)
    message = Str(required=True)


class Error(Answer):
    error = Nested(ErrorDetail, required=True)


def _kind_name(kind: str) -> str:
    names = {
        "string": _("text"),
        "integer": _("whole number"),
        "id": _("id"),
        "boolean": _("true or false"),
        "list": _("list"),
        "object": _("object"),
    }
    return names.get(kind, kind)


def _first_error(messages, path: tuple = ()) -> tuple[str, str]:
    if isinstance(messages, dict):
        key = next(iter(messages))
        if key == "_schema":  # a nested object that is not an object
            return ".".join(path), _TYPE + "object"
        return _first_error(messages[key], (*path, str(key)))
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], path)
    return ".".join(path), str(messages)


def load(schema: Schema, data: Any = None) -> dict:
    """The request's JSON body (or `data`) validated by `schema` into a dict of its fields."""
    if data is None:
        data = json_body()
    try:
        return schema.load(data)
    except ValidationError as err:
        name, message = _first_error(err.messages)
        if message == _MISSING:
            message = _("Missing field: %(field)s.", field=name)
        elif message.startswith(_TYPE):
            message = _(
                "%(field)s must be of type %(types)s.",
                field=name,
                types=_kind_name(message[len(_TYPE) :]),
            )
        else:
            message = _("%(field)s is malformed.", field=name)
        raise ServiceError("bad_request", message, status=400) from None


def _lost_keys(before, after, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        lost = [f"{path}.{k}" for k in before if k not in after]
        for k in before:
            if k in after:
                lost += _lost_keys(before[k], after[k], f"{path}.{k}")
        return lost
    if isinstance(before, list) and isinstance(after, list):
        return [x for b, a in zip(before, after, strict=False) for x in _lost_keys(b, a, path)]
    return []


def dump(schema: Schema, obj: Any) -> Any:
    """`obj` shaped by `schema`. Under test, a key the schema does not declare is an error (an
    answer keeps every field it has; the schema must grow instead)."""
    out = schema.dump(obj)
    if current_app.testing:
        lost = _lost_keys(obj, out)
        if lost:
            raise AssertionError(f"{type(schema).__name__} drops {', '.join(lost)}")
    return out


def answer(schema: Schema, obj: Any, status: int = 200):
    """The JSON response of `obj` shaped by `schema`."""
    return ok(dump(schema, obj), status)
