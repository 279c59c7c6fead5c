"""Issue 14, hole 2: no login maps a receipt to the vote it stands for.

The attack: a voter shows (or is made to show) their receipt; anyone with a staff login opens the
ballot review page, which listed receipts next to ballot contents, and reads the vote. Now pages,
API answers, exports and PDFs that show ballot contents show no receipt, and the receipt board
shows receipts without contents.

The test builds a counted, certified and published secret poll (tablet and paper ballots) and a
counted secret resolution, then — for every staff role and for an anonymous visitor — walks every
GET route of the app that takes a poll or congress id (enumerated from the URL map), the review
page with its filters, and the receipt check. For each document (HTML, JSON, CSV, XLSX, PDF):

* a document that shows ballot contents (the review page, the ballots export, the minutes and the
  paper entry log) contains no receipt;
* in any document that contains receipts, they form one bare list (nothing but separators
  between them: no name, answer or other text), and a JSON document holding a receipt holds no
  per-ballot content (no `kept`, `answers`, `choice`, `struck`, `vote` or `receipt` field) —
  except a sealed poll's public board and digest inputs (issue 16), which publish the opened set
  beside the sorted list of trackers: there no ballot's content may hold a receipt.

The independent recount still works from the ballots export, which has no receipts.
"""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import sys

from tests.conftest import PASSWORD

ROLES = ["admin", "registrar", "counter1", "counter2", "counter3", "chair", "observer", None]
CONTENT_KEYS = {"kept", "answers", "choice", "struck", "vote", "receipt"}
# Routes that cannot show a ballot and are slow to render (every delegate's card with its QR).
SKIP_ENDPOINTS = {"api.cards_pdf", "congress.cards", "static", "main.set_language", "auth.logout"}
# Documents that show individual ballot contents (some roles get 403: that is fine).
CONTENT_DOCS = ("/ballots", "/ballots.json", "/entry-log.pdf", "/minutes.pdf")
SEPARATORS = re.compile(r"^[\s,;|·•()\[\]\"'\-]*$")


def _client(app, role):
    c = app.test_client()
    headers = {}
    if role:
        r = c.post("/login", data={"username": role, "password": PASSWORD})
        assert r.status_code == 302, (role, r.status_code)
        r = c.post("/api/v1/session", json={"username": role, "password": PASSWORD})
        assert r.status_code == 201, r.json
        headers = {"Authorization": f"Bearer {r.json['token']}"}
    return c, headers


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def _text(resp) -> tuple[str, object]:
    """(plain text of the document, parsed JSON or None)."""
    ctype = resp.headers.get("Content-Type", "")
    data = resp.get_data()
    if data.startswith(b"%PDF"):
        return _pdf_text(data), None
    if data.startswith(b"PK"):  # XLSX
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True)
        cells = [
            str(v)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        ]
        return "\n".join(cells), None
    body = data.decode("utf-8", "replace")
    if "json" in ctype:
        lines = body.splitlines()
        try:
            return body, json.loads(body)
        except ValueError:  # JSON lines (the audit export)
            return body, [json.loads(x) for x in lines if x.strip()]
    if "html" in ctype:
        body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", body)
        body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return body, None


def _content_nodes(value, path="$"):
    """Paths of JSON objects that carry a per-ballot content field."""
    out = []
    if isinstance(value, dict):
        if set(value) & CONTENT_KEYS:
            out.append(path)
        for k, v in value.items():
            out += _content_nodes(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            out += _content_nodes(v, f"{path}[{n}]")
    return out


def _loose_receipts(value, receipts: set[str], path: str = "$", key: str = "") -> list[str]:
    """Paths of the receipts in a JSON document other than in a sealed box's public list of
    trackers (issue 16): a list named `trackers` of bare strings in sorted order, which the
    board and the digest's inputs publish beside the opened set and which pairs with nothing."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _loose_receipts(v, receipts, f"{path}.{k}", k)
    elif isinstance(value, list):
        if key == "trackers" and all(isinstance(v, str) for v in value) and value == sorted(value):
            return []
        for n, v in enumerate(value):
            out += _loose_receipts(v, receipts, f"{path}[{n}]", key)
    elif isinstance(value, str) and any(r in value for r in receipts):
        out.append(path)
    return out


def _check_document(where: str, text: str, parsed, receipts: set[str]) -> list[str]:
    """What in this document pairs a receipt with a ballot's content (empty: nothing)."""
    found = sorted((m.start(), m.end()) for r in receipts for m in re.finditer(re.escape(r), text))
    if not found:
        return []
    if isinstance(parsed, dict | list) and not _loose_receipts(parsed, receipts):
        # Only the sorted list of trackers: no ballot's content may hold a receipt.
        return [
            f"{where}: a receipt inside ballot content at {node}"
            for node in _content_nodes(parsed)
            if any(r in json.dumps(_at(parsed, node)) for r in receipts)
        ]
    problems = []
    if any(where.split("?")[0].endswith(s) for s in CONTENT_DOCS):
        problems.append(f"{where}: a document of ballot contents shows receipts")
    for (_s1, e1), (s2, _e2) in zip(found, found[1:], strict=False):
        between = text[e1:s2]
        if not SEPARATORS.match(between):
            problems.append(f"{where}: text between two receipts: {between.strip()[:80]!r}")
            break
    if parsed is not None:
        nodes = _content_nodes(parsed)
        if nodes:
            problems.append(f"{where}: receipts beside ballot content at {nodes[:3]}")
    return problems


def _at(value, path: str):
    """The node of a JSON document at a path made by _content_nodes."""
    for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        value = value[key] if key else value[int(index)]
    return value


def _urls(app, pids: list[int], cid: int) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
            continue
        args = set(rule.arguments)
        if not args <= {"pid", "cid"}:
            continue
        for pid in pids if "pid" in args else [None]:
            url = rule.rule.replace("<int:cid>", str(cid)).replace("<int:pid>", str(pid))
            urls.append(url)
            if rule.endpoint == "counting.review":
                urls += [
                    f"{url}?source=paper",
                    f"{url}?source=tablet",
                    f"{url}?validity=invalid",
                    f"{url}?validity=valid",
                    f"{url}?page=2",
                ]
    return sorted(set(urls))


def _scenario(app, api, hall, staff, client, sign_off):
    """Poll A: secret election, 6 tablet + 2 paper ballots, counted, certified, published.
    Poll B: secret resolution, 3 tablet ballots, counted. Answers (cid, a, b, receipts)."""
    cid = hall.congress(voters=20)
    committee = [staff["counter1"], staff["counter2"]]
    a = hall.poll(cid, counting_committee=committee)
    x, y, z = (c["id"] for c in a["candidates"])
    hall.open(a["id"])
    slips = hall.issue(a["id"], 6)["tokens"]
    c1, _h = _client(app, "counter1")
    pdf = c1.post(f"/polls/{a['id']}/paper/print", data={"count": "2", "size": "A4"})
    assert pdf.status_code == 200, pdf.status_code
    paper = list(
        dict.fromkeys(re.findall(r"(?:[2-9A-HJ-NP-Z]{4}-){4}[2-9A-HJ-NP-Z]", _pdf_text(pdf.data)))
    )
    assert len(paper) == 2, paper
    receipts = []
    for t, kept in zip(slips, ([x, y], [x], [y, z], [z], [x, z], []), strict=False):
        # the all-struck one is spoiled on purpose (invalid under vn-party: issue 18)
        body = {"kept": kept, **({} if kept else {"confirm_invalid": True})}
        r = client.post(f"/api/v1/ballot/{t}", json=body)
        assert r.status_code == 201, r.json
        receipts.append(r.json["receipt"])
    b = hall.poll(cid, "resolution", counting_committee=committee)
    items = [i["id"] for i in b["items"]]
    hall.open(b["id"])
    for t, ans in zip(
        hall.issue(b["id"], 3)["tokens"], ("for", "against", "abstain"), strict=False
    ):
        r = client.post(
            f"/api/v1/ballot/{t}", json={"answers": {str(items[0]): ans, str(items[1]): "for"}}
        )
        assert r.status_code == 201, r.json
        receipts.append(r.json["receipt"])
    for poll in (a, b):
        hall.close(poll["id"])
    hall.enter_paper(a["id"], zip(paper, ([y], [x, y]), strict=True))
    for poll in (a, b):
        r = api("counter1").post(
            f"/api/v1/polls/{poll['id']}/count",
            json={"opening_codes": hall.opening_codes(poll["id"])},
        )
        assert r.status_code == 200, r.json
    digest = api("counter1").get(f"/api/v1/polls/{a['id']}/result").json["digest"]
    for who in ("counter1", "counter2"):
        r = sign_off(who, a["id"], digest)
        assert r.status_code in (200, 201), r.json
    r = api("chair").post(f"/api/v1/polls/{a['id']}/publish")
    assert r.status_code == 200, r.json
    board = api(None).get(f"/api/v1/polls/{a['id']}/receipts").json["receipts"]
    assert set(receipts[:6]) < set(board) and len(board) == 8  # + the 2 paper ballots
    return cid, a, b, set(receipts) | set(board)


def test_no_document_pairs_a_receipt_with_its_ballot(
    app, api, hall, staff, client, tmp_path, sign_off, pdf_once
):
    cid, a, b, receipts = _scenario(app, api, hall, staff, client, sign_off)
    urls = _urls(app, [a["id"], b["id"]], cid)
    assert any(u.endswith(f"/polls/{a['id']}/ballots") for u in urls)  # the review page
    problems: list[str] = []
    shown: dict[str, set[str]] = {}  # content document -> roles that could read it
    listing: set[str] = set()  # documents in which receipts were found (and checked)
    # Everyone signs in first: a sign-in moves the audit chain's head, which the papers print,
    # so a paper read by every role is then the same document (laid out once, `pdf_once`).
    signed_in = {role: _client(app, role) for role in ROLES}
    for role in ROLES:
        c, headers = signed_in[role]
        docs = [(u, c.get(u, headers=headers)) for u in urls]
        r = c.post(
            f"/congresses/{cid}/receipt-check", data={"code": sorted(receipts)[0]}, headers=headers
        )
        docs.append((f"/congresses/{cid}/receipt-check", r))
        r = c.post(
            f"/api/v1/congresses/{cid}/receipt-check",
            json={"code": sorted(receipts)[0]},
            headers=headers,
        )
        docs.append((f"/api/v1/congresses/{cid}/receipt-check", r))
        for url, resp in docs:
            if resp.status_code != 200:
                continue
            text, parsed = _text(resp)
            if any(r in text for r in receipts):
                listing.add(url)
            problems += [
                f"[{role or 'anonymous'}] {p}" for p in _check_document(url, text, parsed, receipts)
            ]
            if any(url.split("?")[0].endswith(s) for s in CONTENT_DOCS):
                shown.setdefault(url, set()).add(role or "anonymous")
    assert not problems, "\n".join(problems)
    # Receipts were found where they belong (so the checks above did run on them).
    assert {f"/api/v1/polls/{a['id']}/receipts", f"/congresses/{cid}/results"} <= listing, listing
    # The walk did read the documents that show contents (not only refusals).
    for suffix in (
        f"/polls/{a['id']}/ballots",
        f"/polls/{b['id']}/ballots",
        f"/api/v1/polls/{a['id']}/ballots.json",
        f"/polls/{a['id']}/minutes.pdf",
    ):
        assert suffix in shown, (suffix, sorted(shown))


def test_review_page_shows_contents_and_the_board_shows_receipts(
    app, api, hall, staff, client, tmp_path, sign_off
):
    cid, a, b, receipts = _scenario(app, api, hall, staff, client, sign_off)
    c, h = _client(app, "counter1")
    page = c.get(f"/polls/{a['id']}/ballots")
    assert page.status_code == 200
    text, _ = _text(page)
    names = [x["full_name"] for x in a["candidates"]]
    assert all(n in text for n in names)  # the contents are there …
    assert not [r for r in receipts if r in text]  # … without a receipt
    board = c.get(f"/api/v1/polls/{a['id']}/receipts", headers=h).json
    assert board["receipts"] == sorted(board["receipts"])
    assert set(board) == {"poll_id", "receipts", "digest"}
    assert not _content_nodes(board)
    # the recount export has the contents, no receipts, and recounts on its own
    export = c.get(f"/api/v1/polls/{a['id']}/ballots.json", headers=h)
    assert export.status_code == 200
    data = export.json
    assert len(data["ballots"]) == 8
    assert not [bl for bl in data["ballots"] if "receipt" in bl]
    # … but for the sealed box's sorted list of trackers (issue 16), which pairs with nothing
    assert [r for r in receipts if r in export.get_data(as_text=True)]
    assert not _loose_receipts(data, set(receipts))
    path = tmp_path / "ballots.json"
    path.write_bytes(export.get_data())
    done = subprocess.run(
        [sys.executable, "-m", "congress_vote.rules.recount", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
