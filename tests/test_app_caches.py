"""Caches belong to the app (app.extensions), never to the process: two apps in one process
(tests, a backup check) never see each other's entries."""

from __future__ import annotations

from congress_vote.ballots.spec import SPEC_CACHE_KEY, cached_rules, poll_spec
from congress_vote.extensions import db
from congress_vote.polls.models import Poll
from tests.conftest import make_app


def test_two_apps_do_not_share_the_poll_rules_cache(hall, app, database_url):
    cid = hall.congress()
    pid = hall.poll(cid)["id"]
    hall.open(pid)
    with app.app_context():
        p = db.session.get(Poll, pid)
        spec, fp = poll_spec(p), p.setup_fingerprint
        assert cached_rules(pid, fp)[0] is spec
    other = make_app(database_url)
    with other.app_context():
        assert cached_rules(pid, fp) is None  # the first app's entry is not this app's
        again = poll_spec(db.session.get(Poll, pid))
        assert again is not spec and again == spec
        db.session.remove()
        db.engine.dispose()
    assert app.extensions[SPEC_CACHE_KEY] is not other.extensions[SPEC_CACHE_KEY]
    with app.app_context():
        assert cached_rules(pid, fp)[0] is spec
