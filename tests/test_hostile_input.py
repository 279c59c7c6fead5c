"""Hostile input (issue 14, hole 8): malformed ids answer 422, never 500, on every route that
takes ids in a body or a query; names cannot hide zero-width or bidi characters."""

from __future__ import annotations

import pytest

from congress_vote.extensions import db

# Ids that are not ids: digits Python's isdigit()/int() take ("²" passes isdigit() and then
# fails int(); "١" and "５" are read as 1 and 5), and numbers of the wrong kind or size.
BAD_IDS = [
    "²",
    "١",
    "５",
    "1²",
    "",
    " ",
    "1e3",
    "0x1",
    "1.0",
    1.5,
    True,
    False,
    None,
    -1,
    0,
    2**31,
    10**20,
    "99999999999999999999",
    [],
    {},
]
# JSON object keys are text: the same, as keys.
BAD_KEYS = [
    "²",
    "١",
    "５",
    "1²",
    "",
    " ",
    "1e3",
    "0x1",
    "1.0",
    "-1",
    "0",
    "true",
    "2147483648",
    "99999999999999999999",
]


def _kiosk(api, cid) -> dict:
    """The headers of an enrolled kiosk where kiosks exist (voting calls need one)."""
    r = api("registrar").post(f"/api/v1/congresses/{cid}/kiosks", json={"label": "Bàn 1"})
    return {"X-Kiosk-Token": r.json["token"]} if r.status_code == 201 else {}


def _assert_bad_id(r, what):
    assert r.status_code == 422, (what, r.status_code, r.get_data(as_text=True)[:300])
    assert r.json["error"]["code"] in ("bad_id", "out_of_range"), (what, r.json)


def _cast_kept(hall, api, client):
    cid, _poll, tokens = hall.open_poll_with_ballots(1)
    headers = _kiosk(api, cid)
    return [
        lambda bad: client.post(
            f"/api/v1/ballot/{tokens[0]}", json={"kept": [bad]}, headers=headers
        )
    ], BAD_IDS


def _cast_answers(hall, api, client):
    cid, poll, tokens = hall.open_poll_with_ballots(1, kind="resolution")
    headers = _kiosk(api, cid)
    item = poll["items"][0]["id"]
    return [
        lambda bad: client.post(
            f"/api/v1/ballot/{tokens[0]}",
            json={"answers": {bad: "for", str(item): "for"}},
            headers=headers,
        )
    ], BAD_KEYS


def _named_vote(hall, api, client):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid, secrecy="open")
    hall.open(poll["id"])
    headers = _kiosk(api, cid)
    card = next(iter(hall.cards.values()))
    return [
        lambda bad: client.post(
            f"/api/v1/polls/{poll['id']}/named-votes",
            json={"card": card, "kept": [bad]},
            headers=headers,
        )
    ], BAD_IDS


def _create_poll(hall, api, client):
    cid = hall.congress(voters=3)
    url = f"/api/v1/congresses/{cid}/polls"
    committee = [hall.staff["counter1"]]
    return [
        lambda bad: api("admin").post(url, json=hall.body(counting_committee=[*committee, bad])),
        lambda bad: api("admin").post(
            url, json=hall.body(candidates=[{"full_name": "Trần Văn Bình", "delegate_id": bad}])
        ),
    ], [b for b in BAD_IDS if b is not None]  # a null delegate_id means "not a delegate"


def _round(hall, api, client):
    _cid, poll, _ = hall.open_poll_with_ballots(1)
    url = f"/api/v1/polls/{poll['id']}/rounds"
    return [lambda bad: api("admin").post(url, json={"candidate_ids": [bad], "seats": 1})], BAD_IDS


def _paper(hall, api, client):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid)
    hall.open(poll["id"])
    r = api("counter1").post(
        f"/api/v1/polls/{poll['id']}/ballots", json={"count": 1, "kind": "paper"}
    )
    code = r.json["tokens"][0] if r.status_code == 201 else "X" * 10
    hall.close(poll["id"])
    url = f"/api/v1/polls/{poll['id']}/paper-ballots"
    return [lambda bad: api("counter1").post(url, json={"code": code, "kept": [bad]})], BAD_IDS


def _paper_answers(hall, api, client):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid, kind="resolution")
    hall.open(poll["id"])
    url = f"/api/v1/polls/{poll['id']}/paper-ballots"
    return [
        lambda bad: api("counter1").post(url, json={"code": "X" * 10, "answers": {bad: "for"}})
    ], BAD_KEYS


def _hand_count(hall, api, client):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid, kind="resolution", secrecy="open")
    hall.open(poll["id"])
    url = f"/api/v1/polls/{poll['id']}/hand-count"
    return [lambda bad: api("counter1").post(url, json={"items": {bad: {"for": 1}}})], BAD_KEYS


ROUTES = {
    "cast kept": _cast_kept,
    "cast answers": _cast_answers,
    "named vote": _named_vote,
    "create poll": _create_poll,
    "next round": _round,
    "paper kept": _paper,
    "paper answers": _paper_answers,
    "hand count": _hand_count,
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_malformed_ids_answer_422(route, hall, api, client, app):
    calls, values = ROUTES[route](hall, api, client)
    for call in calls:
        for bad in values:
            _assert_bad_id(call(bad), f"{route}: {bad!r}")
    # and nothing was stored for any of them
    from congress_vote.ballots.models import Ballot, HandCount, NamedVote, PaperEntry
    from congress_vote.polls.models import Poll

    with app.app_context():
        for model in (Ballot, NamedVote, PaperEntry, HandCount):
            assert db.session.query(model).count() == 0, model
        assert db.session.query(Poll).count() <= 1


def test_malformed_ids_in_forms_and_queries(hall, api, client, auth):
    """The HTML side: a kiosk link's ?k=, the poll form's committee boxes."""
    cid, _poll, tokens = hall.open_poll_with_ballots(1)
    for bad in ("²", "١", "99999999999999999999"):
        r = client.get(f"/b/{tokens[0]}?k={bad}")
        assert r.status_code < 500, (bad, r.status_code)
    auth.login("admin")
    for bad in ("²", "١", "５"):
        r = client.post(
            f"/congresses/{cid}/polls/new",
            data={
                "kind": "committee",
                "title": "T",
                "seats": "1",
                "lines": "A\nB",
                "counting_committee": [str(hall.staff["counter1"]), bad],
                "committee_head": bad,
            },
        )
        assert r.status_code < 500, (bad, r.status_code)


# ---- the PDF URL fetcher -----------------------------------------------------------------------


def _png(path):
    from PIL import Image

    Image.new("RGB", (8, 8), (255, 0, 0)).save(path)
    return path


def _images_in(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_fetcher_cannot_walk_out_of_static(tmp_path):
    """`file://<static>/%2e%2e/…` (urllib decodes %2e%2e to `..` when it opens the file), `..`
    and a symlink out of static/ are refused; a file inside static/ is still read."""
    import uuid

    from congress_vote.reports.pdf import STATIC, LocalOnlyFetcher, html_to_pdf

    outside = _png(tmp_path / "secret.png")
    up = "/".join([".."] * len(STATIC.parts))  # from static/ up to /
    link = STATIC / f"test-link-{uuid.uuid4().hex}.png"
    link.symlink_to(outside)
    try:
        urls = [
            f"file://{STATIC}/%2e%2e/{'%2e%2e/' * len(STATIC.parts)}{outside.relative_to('/')}",
            f"file://{STATIC}/{up.replace('..', '%2E%2E')}{outside}",
            f"file://{STATIC}/{up}{outside}",
            f"file://{STATIC}/..%2f{up[3:]}{outside}",
            f"file://{STATIC}%2f%2e%2e%2f{up[3:]}{outside}",
            f"file://localhost{STATIC}/{up}{outside}",
            link.as_uri(),
        ]
        fetcher = LocalOnlyFetcher(allowed_protocols=("data", "file"))
        for url in urls:
            with pytest.raises(ValueError):
                fetcher.fetch(url)
            html = f"<html><body><p>x</p><img src='{url}'></body></html>"
            assert _images_in(html_to_pdf(html)) == 0, url
        # a picture inside static/ still prints
        inside = _png(STATIC / f"test-inside-{uuid.uuid4().hex}.png")
        try:
            assert (
                _images_in(html_to_pdf(f"<html><body><img src='{inside.as_uri()}'></body></html>"))
                == 1
            )
        finally:
            inside.unlink()
    finally:
        link.unlink()


# ---- status lookups count against the code-entry limit -----------------------------------------


def _used_and_closed_codes(app):
    """A congress, a used ballot code and a code of a closed poll; the kiosk headers."""
    from congress_vote.ballots.issuing import issue_ballots
    from congress_vote.ballots.services import cast_ballot
    from congress_vote.congress import kiosks
    from congress_vote.polls.services import close_poll
    from tests.fx_polls import bare_hall

    with app.app_context():
        c, counter, (p1, p2), kiosk = bare_hall(6, "counter9", polls=2, kiosk="Bàn 1")
        used = issue_ballots(p1, 1, counter).codes[0]
        closed = issue_ballots(p2, 1, counter).codes[0]
        headers = {kiosks.HEADER: kiosk}
        db.session.commit()
        kept = [p1.candidates[0].id]
        with app.test_request_context(headers=headers):
            cast_ballot(used, kept=kept)
        close_poll(db.session.get(type(p2), p2.id), None)
        db.session.commit()
        return c.id, used, closed, headers


@pytest.mark.parametrize("lookup", ["api", "ballot page", "kiosk code entry"])
def test_status_lookups_use_up_the_code_entry_budget(rate_limited_app, lookup):
    """Asking again and again whether a code is used (409) or its poll closed is limited like
    guessing unknown codes: N lookups, then 429."""
    app = rate_limited_app("4 per minute")
    cid, used, closed, headers = _used_and_closed_codes(app)
    client = app.test_client()

    def ask(code):
        if lookup == "api":
            return client.get(f"/api/v1/ballot/{code}", headers=headers)
        if lookup == "ballot page":
            return client.get(f"/b/{code}?k={cid}", headers=headers)
        return client.post(f"/kiosk/{cid}", data={"code": code}, headers=headers)

    answers = [
        ask(used).status_code,
        ask(closed).status_code,
        ask(used).status_code,
        ask(closed).status_code,
    ]
    assert answers == [409] * 4, answers
    assert ask(used).status_code == 429
    assert ask(closed).status_code == 429


# ---- invisible characters in candidate names and item texts ------------------------------------

INVISIBLE = ["\u200b", "\u202e", "\u200d", "\ufeff", "\u2066", "\u00ad"]


def _stored_names(app, pid):
    from congress_vote.polls.models import Poll

    with app.app_context():
        poll = db.session.get(Poll, pid)
        return (
            [c.full_name for c in poll.candidates],
            [c.position for c in poll.candidates],
            [i.text for i in poll.items],
            poll.title,
        )


@pytest.mark.parametrize("mark", INVISIBLE)
def test_candidate_names_are_cleaned_of_invisible_characters(hall, api, app, mark):
    cid = hall.congress(voters=3)
    url = f"/api/v1/congresses/{cid}/polls"
    # two candidates that look the same: refused as a duplicate
    r = api("admin").post(
        url,
        json=hall.body(
            candidates=[{"full_name": "Nguyễn Văn An"}, {"full_name": f"Nguyễn Văn{mark} An"}]
        ),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "duplicate_candidate", r.json
    # a name of invisible characters only is empty
    r = api("admin").post(
        url, json=hall.body(candidates=[{"full_name": mark * 3}, {"full_name": "Trần Văn Bình"}])
    )
    assert r.status_code == 422, r.json
    # otherwise stored without them
    r = api("admin").post(
        url,
        json=hall.body(
            title=f"Bầu{mark} Ban Chấp hành",
            candidates=[
                {"full_name": f"{mark}Lê Minh Châu", "position": f"Bí{mark} thư"},
                {"full_name": "Trần Văn Bình"},
                {"full_name": f"Nguyễn{mark} Thị An"},
            ],
        ),
    )
    assert r.status_code == 201, r.json
    names, positions, _items, title = _stored_names(app, r.json["id"])
    assert dict(zip(names, positions, strict=False)) == {
        "Lê Minh Châu": "Bí thư",
        "Trần Văn Bình": "",
        "Nguyễn Thị An": "",
    }
    assert title == "Bầu Ban Chấp hành"
    assert [c["full_name"] for c in r.json["candidates"]] == names


@pytest.mark.parametrize("mark", ["\u200b", "\u202e"])
def test_item_texts_are_cleaned_of_invisible_characters(hall, api, app, mark):
    cid = hall.congress(voters=3)
    url = f"/api/v1/congresses/{cid}/polls"
    r = api("admin").post(
        url,
        json=hall.body(
            "resolution",
            items=[{"text": "Báo cáo chính trị"}, {"text": f"Báo cáo{mark} chính trị"}],
        ),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "duplicate_item", r.json
    r = api("admin").post(url, json=hall.body("resolution", items=[{"text": mark}]))
    assert r.status_code == 422, r.json
    r = api("admin").post(
        url,
        json=hall.body(
            "resolution",
            items=[
                {"text": f"{mark}Báo cáo chính trị{mark}"},
                {"text": f"Chương trình{mark}hành động"},
            ],
        ),
    )
    assert r.status_code == 201, r.json
    assert sorted(_stored_names(app, r.json["id"])[2]) == [
        "Báo cáo chính trị",
        "Chương trình hành động",
    ]


def test_control_characters_never_reach_a_stored_name(hall, api):
    """Found by the API fuzzer on PostgreSQL: a kiosk label holding NUL gave 500 (PostgreSQL's
    text refuses NUL). Names and labels drop control characters like format characters; a NUL
    is refused before any view (400 invalid_text, the test below)."""
    cid = hall.congress(voters=2)
    r = api("registrar").post(f"/api/v1/congresses/{cid}/kiosks", json={"label": "\x00Bàn số 3"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_text", r.json
    r = api("registrar").post(
        f"/api/v1/congresses/{cid}/kiosks", json={"label": "\x07Bàn\x0b số\x1b 3"}
    )
    assert r.status_code == 201, r.json
    listed = api("registrar").get(f"/api/v1/congresses/{cid}/kiosks").json
    labels = [
        k["label"] for k in (listed.get("kiosks", listed) if isinstance(listed, dict) else listed)
    ]
    assert "Bàn số 3" in labels


def test_a_nul_character_is_refused_with_400_before_any_view(hall, api, client, app):
    """A NUL in a JSON body, a form field, a query or the path is answered 400 invalid_text (the
    fuzzer found a 500 on PostgreSQL, whose text cannot hold one: the username of POST
    /api/v1/session and of the sign-in form reached the user lookup), and nothing is stored."""
    from congress_vote.polls.models import Poll

    r = client.post("/api/v1/session", json={"username": "admin\x00", "password": "x"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_text", r.json
    r = client.post("/login", data={"username": "ad\x00min", "password": "x"})
    assert r.status_code == 400 and "NUL" in r.get_data(as_text=True)
    cid = hall.congress()
    r = api("admin").post(
        f"/api/v1/congresses/{cid}/polls",
        json={"kind": "resolution", "title": "Nghị quyết\x00", "items": [{"text": "Điều 1"}]},
    )
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_text", r.json
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Poll)) == 0
    r = api("admin").get(f"/api/v1/congresses/{cid}/delegates?q=a%00b")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_text"
    assert client.get("/b/ABCD%00EFGH").status_code == 400
