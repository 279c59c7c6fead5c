"""Issue 15 part 4: one schema per API shape. The marshmallow schemas of api/schemas/ validate
the request bodies, shape the answers and are what GET /api/v1/openapi.json documents, so the
document, the checks and the answers cannot differ."""

from __future__ import annotations

import re

import pytest

from congress_vote.extensions import db

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _spec(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json


def test_every_api_route_is_documented_and_every_documented_route_exists(app, client):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = _CONVERTER.sub(r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    spec = _spec(client)
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert routes - documented == set(), "API routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes that do not exist"


def _is_schema_ref(schema: dict) -> bool:
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    return set(schema) == {"$ref"} and schema["$ref"].startswith("#/components/schemas/")


def test_json_bodies_and_answers_are_declared_schemas(client):
    """No hand-kept inline JSON Schema: every JSON request body and every JSON answer of the
    document is a component generated from a marshmallow schema (the one that validates or
    shapes it)."""
    spec = _spec(client)
    inline = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not _is_schema_ref(body["schema"]):
                inline.append(f"{method.upper()} {path} body")
            for status, resp in op["responses"].items():
                content = resp.get("content", {}).get("application/json")
                if content is not None and not _is_schema_ref(content["schema"]):
                    inline.append(f"{method.upper()} {path} {status}")
    assert inline == []
    components = spec["components"]["schemas"]
    assert {"Poll", "PollBody", "Result", "Error", "Choice", "User"} <= set(components)
    # the rules a schema documents are the ones it checks
    assert components["PollBody"]["properties"]["seats"]["type"] == "integer"
    assert components["PollBody"]["required"] == ["title"]
    assert components["Choice"]["properties"]["kept"]["items"]["type"] == "integer"
    # query strings too: the schema that reads them documents them
    params = spec["paths"]["/api/v1/congresses/{cid}/delegates"]["get"]["parameters"]
    assert {(p["in"], p["name"]) for p in params} == {
        ("path", "cid"),
        ("query", "q"),
        ("query", "status"),
    }


def test_a_field_error_names_the_field(hall, api):
    cid = hall.congress()
    admin = api("admin")
    r = admin.post(
        f"/api/v1/congresses/{cid}/polls",
        json=hall.body(candidates=[{"full_name": "Lê Văn A"}, {"full_name": 5}]),
    )
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    assert "candidates.1.full_name" in r.json["error"]["message"]
    r = admin.post(
        "/api/v1/users", json={"username": "u1", "password": "x" * 12, "roles": ["counter", 7]}
    )
    assert r.status_code == 400 and "roles.1" in r.json["error"]["message"]
    assert "chuỗi ký tự" in r.json["error"]["message"]  # Vietnamese, the kind too
    r = admin.post("/api/v1/users", json={"username": "u1", "roles": []})
    assert r.status_code == 400 and "password" in r.json["error"]["message"]
    # a malformed id is still 422 bad_id, a huge number 422 out_of_range
    r = admin.post(f"/api/v1/congresses/{cid}/polls", json=hall.body(counting_committee=[None]))
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_id"
    r = admin.post(f"/api/v1/congresses/{cid}/polls", json=hall.body(seats=10**12))
    assert r.status_code == 422 and r.json["error"]["code"] == "out_of_range"


def test_the_paper_return_takes_what_the_document_says(world, api):
    """The document said `unused` is an integer while the check took "2" as well: the
    schema is now both."""
    cid = world.congress(voters=20)
    poll = world.poll(cid, seats=1, committee=("counter1", "counter2"), head="counter1")
    world.issue(poll, 3, kind="paper")
    world.close(poll)
    db.session.commit()
    url = f"/api/v1/polls/{poll.id}/paper-returns"
    r = api("counter1").post(url, json={"unused": "2"})
    assert r.status_code == 400 and "unused" in r.json["error"]["message"]
    r = api("counter1").post(url, json={"unused": 2})
    assert r.status_code == 201 and r.json["unused"] == 2


def test_an_answer_schema_drops_no_field(app):
    """Under test, an answer key its schema does not declare fails loudly, so an answer never
    loses a field silently."""
    from congress_vote.api.schemas.accounts import User
    from congress_vote.api.schemas.base import dump

    with app.test_request_context():
        row = {"id": 1, "username": "a", "full_name": "", "title": "", "roles": [], "active": True}
        assert dump(User(), row) == row
        with pytest.raises(AssertionError, match="nickname"):
            dump(User(), {**row, "nickname": "x"})
