"""Hostile input (issue 8, part 2): schemathesis against the app's own OpenAPI document, and
Hypothesis over the HTML forms. No 500, no HTML error page on /api/, only documented statuses,
and no partial write: a rejected request leaves every table's row count as it was.

Examples per operation: 2 x FUZZ_EXAMPLES (default 10), positive and negative
(schema-violating) cases mixed; the figures are printed at the end (pytest -s).
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from congress_vote.extensions import db
from tests.faults.helpers import FlaskCaller, create_super_user, issue, setup_open_poll, sign_in

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "../../etc/passwd",
    "Nguye\u0302\u0303n Va\u0306n A",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "'; DROP TABLE delegate; --",
    "\x00",
    "𝕏" * 3,
    "a" * 5000,
    "",
    " ",
    "١٢٣",
    "{{7*7}}",
    "%s%n",
    "\r\n\t",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))


def _counts(app) -> dict:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
        row = db.session.execute(text(sql)).one()
        db.session.remove()
    return dict(zip(tables, row, strict=False))


@pytest.fixture
def world(app):
    """A congress with 20 present voters, an open poll with unused ballots, a bearer token."""
    uid = create_super_user(app)
    caller = FlaskCaller(app.test_client())
    token = sign_in(caller)
    sc = setup_open_poll(caller, token, uid, voters=20)
    assert sc is not None, "the congress/poll API is missing"
    got = issue(caller, sc, 10)
    return {"caller": caller, "token": token, "sc": sc, "ballots": got["tokens"]}


# ---- schemathesis ------------------------------------------------------------------------------


def test_openapi_fuzz(app, world, capsys, pdf_once):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    sc = world["sc"]
    real = {"cid": sc.cid, "pid": sc.pid, "token": world["ballots"][-1], "did": 1}
    auth = {"Authorization": f"Bearer {world['token']}"}
    tried: Counter = Counter()
    problems: list[str] = []

    ops = []
    for result in schema.get_all_operations():
        ops.append(result.ok())
    assert len(ops) >= 30, f"only {len(ops)} API operations documented"
    # Operations that can end the fuzzer's own token (sign-out; a password reset, deactivation
    # or revocation that hits its user id) run last, so the others are fuzzed signed in.
    ops.sort(
        key=lambda op: (
            (op.method.upper(), op.path) == ("DELETE", "/api/v1/session")
            or (op.method.upper() == "POST" and op.path.startswith("/api/v1/users/"))
        )
    )

    for op in ops:
        names = {p.name for p in op.iter_parameters() if p.location == "path"}
        fixed = {k: v for k, v in real.items() if k in names}
        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(op.as_strategy(generation_mode=mode))
            if fixed:
                strategies.append(op.as_strategy(generation_mode=mode, path_parameters=fixed))
        label = f"{op.method.upper()} {op.path}"

        @settings(
            max_examples=EXAMPLES * 2,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case):
            before = _counts(app)
            resp = case.call(headers=auth)
            tried[label] += 1
            status = resp.status_code
            where = f"{label} [{case.path_parameters}] body={str(case.body)[:120]!r}"
            if status >= 500:
                problems.append(f"{where}: {status}")
                return
            if status >= 400:
                ctype = next(
                    (v for k, v in resp.headers.items() if k.lower() == "content-type"), ""
                )
                ctype = ";".join(ctype) if isinstance(ctype, list) else ctype
                if "application/json" not in ctype:
                    problems.append(f"{where}: {status} error is {ctype}, not JSON")
                else:
                    body = resp.json()
                    if not (
                        isinstance(body, dict)
                        and "error" in body
                        and "code" in body["error"]
                        and "message" in body["error"]
                    ):
                        problems.append(f"{where}: {status} error body {body!r}")
                after = _counts(app)
                if after != before and not (label == "POST /api/v1/session" and status == 401):
                    diff = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                    problems.append(f"{where}: rejected with {status} but wrote {diff}")
            try:
                case.validate_response(
                    resp,
                    checks=[not_a_server_error, status_code_conformance, content_type_conformance],
                    headers=auth,
                )
            except BaseException as err:  # noqa: BLE001  (schemathesis raises failure groups)
                if isinstance(err, KeyboardInterrupt):
                    raise
                problems.append(f"{where}: {str(err).strip().splitlines()[0][:200]}")

        run()

    with capsys.disabled():
        print(f"\n[fuzz] schemathesis: {len(ops)} operations, {sum(tried.values())} requests")
        print(f"[fuzz]   PDF layouts: {pdf_once}")
        for label, n in sorted(tried.items()):
            print(f"[fuzz]   {n:4d}  {label}")
    uniq = sorted(set(problems))
    assert not uniq, f"{len(uniq)} problems:\n" + "\n".join(uniq[:40])


# ---- the HTML forms ----------------------------------------------------------------------------

_INPUT = re.compile(rb'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', re.I)
_TYPE = re.compile(rb'\btype="(hidden|submit|checkbox|radio|file)"', re.I)


def _form_fields(page: bytes) -> list[str]:
    names = []
    for m in re.finditer(rb"<(?:input|textarea|select)[^>]*>", page, re.I):
        tag = m.group(0)
        name = re.search(rb'\bname="([^"]+)"', tag)
        if not name:
            continue
        t = _TYPE.search(tag)
        if t and t.group(1).lower() in (b"hidden", b"submit", b"file"):
            continue
        names.append(name.group(1).decode())
    return sorted(set(names) - {"csrf_token"})


def test_html_forms_fuzz(app, world, auth, capsys):
    """Every GET+POST HTML form page (as admin+counter+chair) takes arbitrary text in every
    field without a 500, and echoes nothing unescaped."""
    from tests.faults.helpers import SUPER

    client = app.test_client()
    r = client.post("/login", data={"username": SUPER, "password": "password123"})
    assert r.status_code == 302
    sc = world["sc"]
    forms = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static", "/login", "/logout", "/lang")):
            continue
        if not {"GET", "POST"} <= rule.methods:
            continue
        url = rule.rule.replace("<int:cid>", str(sc.cid)).replace("<int:pid>", str(sc.pid))
        if "<" in url:
            continue
        page = client.get(url)
        if page.status_code != 200:
            continue
        fields = _form_fields(page.data)
        if fields:
            forms.append((url, fields))
    assert forms, "no HTML forms found"
    tried: Counter = Counter()
    problems = []
    for url, fields in forms:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(values=st.fixed_dictionaries({f: hostile_text for f in fields}))
        def run(values):
            resp = client.post(url, data=values)
            tried[url] += 1
            if resp.status_code >= 500:
                problems.append(f"POST {url} {values!r}: {resp.status_code}")
            body = resp.get_data()
            if b"<script>alert(1)" in body or b"<img src=x onerror" in body:
                problems.append(f"POST {url}: unescaped markup echoed")

        run()
    with capsys.disabled():
        print(f"\n[fuzz] HTML forms: {len(forms)} forms, {sum(tried.values())} posts")
        for url, n in sorted(tried.items()):
            print(f"[fuzz]   {n:4d}  POST {url}")
    assert not problems, "\n".join(problems[:20])
