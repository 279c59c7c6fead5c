"""Helpers for API handlers: documented routes, JSON bodies, JSON answers. The shapes of the
bodies and answers are the marshmallow schemas of api/schemas/ (`load`, `answer`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from marshmallow import Schema

from ..errors import ServiceError

# What `doc` documents a body or an answer with: a schema class, a schema instance (many=True
# for a list) or a plain OpenAPI schema dict.
SchemaRef = type[Schema] | Schema | dict[str, Any]


def doc(
    summary: str,
    body: SchemaRef | None = None,
    response: SchemaRef | None = None,
    statuses: tuple[int, ...] = (200,),
    body_content: str = "application/json",
    produces: str = "application/json",
    tag: str | None = None,
    query: type[Schema] | None = None,
):
    """Attach the OpenAPI description of a route. Every /api/ route must carry one. `body` and
    `response` are schemas of api/schemas/ (a class, or an instance with many=True for a list);
    a non-JSON body (a CSV upload) is described by a plain OpenAPI schema dict; `query` is the
    schema of the query string."""

    def deco(view):
        view.__openapi__ = {
            "summary": summary,
            "body": body,
            "response": response,
            "statuses": statuses,
            "body_content": body_content,
            "produces": produces,
            "tag": tag,
            "query": query,
        }
        return view

    return deco


def json_body() -> dict:
    """The request's JSON object, or a 400 naming what is wrong (never a 500); its fields are
    checked by a schema (api/schemas/base.py `load`)."""
    if not request.is_json:
        raise ServiceError(
            "bad_request", _("Send a JSON object with Content-Type: application/json."), status=400
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("bad_request", _("The body must be a JSON object."), status=400)
    if has_huge_int(data):
        # Ids and counts are database INTEGERs: 10**20 would end as OverflowError/DataError (500).
        raise ServiceError("out_of_range", _("A number in the body is out of range."), status=422)
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


def ok(obj, status: int = 200):
    resp = jsonify(obj)
    resp.status_code = status
    return resp
