"""No English on a Vietnamese page or paper (issue 18 part 3).

The English to look for comes from the catalogue itself: every msgid whose Vietnamese differs
(its placeholder-free pieces of two words or more, or one long word), plus the raw keys that
must never reach a person (preset keys, audit action keys, column names, check wording, UTC).
One congress with polls in every state; one client per role; every GET page of the app that
the role may open (its HTML text, titles and placeholders), the PDFs (minutes, announcement,
summary, entry log, attendance, cards, slips, paper ballots)."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from congress_vote.extensions import db
from congress_vote.i18n.build import translations

from .conftest import PASSWORD, STAFF

# The language of the text (the templates and the catalogue); the database only supplies the
# congress shown, and pages that do not answer 200 are not read.
pytestmark = pytest.mark.db_independent

RAW_KEYS = [
    "vn-party",
    "majority-of-valid",
    "auth.login",
    "poll.created",
    "full_name",
    "voters_summoned_adjusted",
    "ballots_valid_nonblank",
    "all_struck",
    "UTC",
    "≤ present",
    "issued ",
    "= returned",
]
# Words a Vietnamese page may carry in English (names of things, not UI text).
ALLOWED = {"JSON", "CSV", "XLSX", "PDF", "QR", "SHA-256", "OK", "Ed25519", "API"}
# The import page lists the English column headers it also accepts, on purpose.
PAGE_ALLOWED = {"/import": {"full_name"}}
SKIP_ENDPOINTS = {
    "main.set_language",  # switches the language
    "audit.export",  # JSON lines, machine-facing
    "reports.console_json",
    "reports.projector_json",
    "congress.export_delegates",
    "documents.show",
    "documents.file",
    "ballots.ballot",
    "ballots.kiosk",
    "ballots.named",
    "polls.slips_pdf",
    "static",
}


def english_pieces() -> list[re.Pattern]:
    """Patterns of the catalogue's English that a Vietnamese text must not contain."""
    pieces: set[str] = set()
    for mid, msg in translations().items():
        if isinstance(mid, tuple):
            mid, msg = mid[0], msg[0]
        if not msg or msg == mid:
            continue
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>|[\(\):;·—–…\"“”]", mid):
            part = part.strip(" .,!?'")
            if not re.search(r"[A-Za-z]{3}", part) or part in ALLOWED | set(STAFF) or part in msg:
                continue
            words = part.split()
            if len(words) >= 2 and len(part) >= 9 or len(words) == 1 and len(part) >= 9:
                pieces.add(part)
    out = [re.compile(r"(?<![\w.])" + re.escape(p) + r"(?![\w])") for p in sorted(pieces)]
    out += [re.compile(re.escape(k)) for k in RAW_KEYS]
    return out


class _Text(HTMLParser):
    """The text a person reads: body text, titles, placeholders, labels; no scripts/styles."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for k, v in attrs:
            if k in ("title", "placeholder", "aria-label", "alt") and v:
                self.parts.append(v)
            if k == "value" and tag in ("button",) and v:
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(resp) -> str:
    if resp.mimetype == "application/pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    parser = _Text()
    parser.feed(resp.get_data(as_text=True))
    return "\n".join(parser.parts)


def offenders(text: str, patterns) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return sorted({m.group(0) for p in patterns for m in [p.search(flat)] if m})


@pytest.fixture
def hall(world, api, staff):
    """One congress, polls in every state (draft, open, closed, counted, certified, published)."""
    from congress_vote.counting.models import PollResult

    poll = world.election(
        voters=12,
        votes=[[0, 1]] * 5 + [[0]] * 3 + [[]],
        committee=("counter1", "counter2"),
        head="counter1",
    )
    cid = poll.congress_id
    polls = {"closed": poll}
    for state in ("counted", "certified", "published"):
        p = world.poll(cid, committee=("counter1", "counter2"), head="counter1")
        toks = world.issue(p, 4)
        ids = [c.id for c in p.candidates]
        for code in toks[:3]:
            world.cast(p, code, kept=ids[:2])
        world.close(p)
        db.session.commit()
        assert api("counter1").post(f"/api/v1/polls/{p.id}/count").status_code == 200
        if state != "counted":  # the states after the sign-offs, set directly
            p.status = state
            db.session.get(PollResult, p.id).certified_at = db.func.now()
        db.session.commit()
        polls[state] = p
    polls["draft"] = world.poll(cid, status="draft")
    polls["open"] = world.poll(cid, status="open")
    polls["resolution"] = world.poll(cid, kind="resolution", status="draft")
    for p in polls.values():
        p.title = "Bầu Ban Chấp hành Đảng bộ khóa mới"
    db.session.commit()
    return cid, polls


def _args(rule, cid, polls, ids) -> list[dict]:
    names = set(rule.arguments)
    if names - {"cid", "pid", "did", "user_id"}:
        return []
    out = [{}]
    if "pid" in names:  # a paper of a poll: once (the certified one); a page: every state
        chosen = [polls["certified"]] if rule.rule.endswith(".pdf") else polls.values()
        out = [{"pid": p.id} for p in chosen]
    for o in out:
        if "cid" in names:
            o["cid"] = cid
        if "did" in names:
            o["did"] = ids["delegate"]
        if "user_id" in names:
            o["user_id"] = ids["user"]
    return out


def test_no_english_on_vietnamese_pages_and_papers(app, hall, staff):
    from congress_vote.congress.models import Delegate

    cid, polls = hall
    patterns = english_pieces()
    assert len(patterns) > 300  # the catalogue was read
    ids = {
        "delegate": db.session.scalar(db.select(Delegate.id).where(Delegate.congress_id == cid)),
        "user": staff["counter2"],
    }
    found: dict[str, list[str]] = {}
    papers_read: set[str] = set()
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "GET" in r.methods
        and not r.rule.startswith("/api/")
        and r.endpoint not in SKIP_ENDPOINTS
    ]
    for role in ("admin", "registrar", "counter1", "chair", "observer"):
        assert role in STAFF
        client = app.test_client()
        assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code in (
            200,
            302,
        )
        paths = [
            app.url_map.bind("localhost").build(r.endpoint, a)
            for r in rules
            for a in _args(r, cid, polls, ids)
        ]
        paths += [
            f"/api/v1/polls/{polls['published'].id}/announcement.pdf",
            f"/api/v1/congresses/{cid}/summary.pdf",
        ]
        for path in sorted(set(paths) - papers_read):
            resp = client.get(path, headers={"Accept": "text/html"})
            if resp.status_code != 200 or resp.mimetype not in ("text/html", "application/pdf"):
                continue
            if resp.mimetype == "application/pdf":
                papers_read.add(path)  # a paper is the same for every role: read once
            allowed = {w for end, ws in PAGE_ALLOWED.items() if path.endswith(end) for w in ws}
            bad = [w for w in offenders(page_text(resp), patterns) if w not in allowed]
            if bad:
                found[f"{role} {path}"] = bad
    found.update(_printed(app, cid, polls, patterns))
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def _printed(app, cid, polls, patterns) -> dict[str, list[str]]:
    """The papers made outside a page: slips, paper ballots (as the batch download makes them)."""
    from congress_vote import codes
    from congress_vote.ballots.paper_ballots import paper_ballots_pdf
    from congress_vote.ballots.slips import render_slips

    poll = polls["open"]
    plain = [codes.normalise(codes.new_code()) for _ in range(2)]
    out = {}
    with app.test_request_context():
        for name, pdf in (
            ("slips", render_slips(poll, plain, "vi")),
            ("paper ballots", paper_ballots_pdf(poll, plain)),
        ):
            text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
            bad = offenders(text, patterns)
            if bad:
                out[name] = bad
    return out
