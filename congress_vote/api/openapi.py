"""GET /api/v1/openapi.json, generated from the routes and their @doc descriptions, so the
document and the app cannot drift apart (a test also checks every API route is described)."""
from __future__ import annotations

import re

from flask import current_app

from ..security import PUBLIC, public
from . import bp
from .util import doc, ok

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
_STATUS_TEXT = {200: "OK", 201: "Created", 400: "Malformed request", 401: "Not signed in",
                403: "Wrong role", 404: "Not found", 409: "Conflicts with the state",
                413: "Body too large", 415: "Unsupported media type", 422: "Breaks a rule",
                429: "Rate limited"}


def build_spec() -> dict:
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = getattr(view, "__openapi__", None)
        if meta is None:
            continue  # the route test reports undocumented API routes
        params = []

        def _conv(m):
            conv, name = m.group(1), m.group(2)
            params.append({"name": name, "in": "path", "required": True,
                           "schema": {"type": "integer"} if conv == "int" else {"type": "string"}})
            return "{" + name + "}"
        path = _CONVERTER.sub(_conv, rule.rule)
        access = getattr(view, "__access__", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": meta["summary"], "operationId": f"{rule.endpoint}_{method.lower()}",
                  "parameters": params, "responses": {}}
            if meta.get("tag"):
                op["tags"] = [meta["tag"]]
            if access != PUBLIC:
                op["security"] = [{"bearer": []}]
                op["x-roles"] = sorted(access or [])
            if meta["body"] is not None and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True,
                                     "content": {meta["body_content"]: {"schema": meta["body"]}}}
            for status in meta["statuses"]:
                if status >= 400:  # errors are JSON on every route, PDFs included
                    op["responses"][str(status)] = {
                        "description": _STATUS_TEXT.get(status, "Error"),
                        "content": {"application/json": {"schema": ERROR_SCHEMA}}}
                    continue
                content = ({meta["produces"]: {"schema": meta["response"] or {}}}
                           if meta["produces"] == "application/json"
                           else {meta["produces"]: {"schema": {"type": "string",
                                                               "format": "binary"}}})
                op["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "OK"),
                                                "content": content}
            for status in (400, 401, 403, 404, 409, 422, 429):
                op["responses"].setdefault(str(status), {
                    "description": _STATUS_TEXT[status],
                    "content": {"application/json": {"schema": ERROR_SCHEMA}}})
            paths.setdefault(path, {})[method.lower()] = op
    return {"openapi": "3.0.3",
            "info": {"title": "congress-vote API", "version": "1"},
            "servers": [{"url": "/"}],
            "paths": dict(sorted(paths.items())),
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


@bp.get("/openapi.json")
@public
@doc("This OpenAPI document", response={"type": "object"})
def openapi_json():
    return ok(build_spec())
