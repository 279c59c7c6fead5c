"""Issue 14 hole 3: the signed digest covers every input of the result.

The attack: after the committee signed, a database writer edits what the result depends on
(the frozen attendance, the rules, a candidate's name, a hand count). `flask --app wsgi recount
PID` and `flask --app wsgi verify-audit` must then fail, naming the poll and what differs.
"""

from __future__ import annotations

import json

from congress_vote.ballots.models import HandCount
from congress_vote.extensions import db
from congress_vote.polls.models import Candidate, Poll


def _certify(sign_off, api, poll, members=("counter1", "counter2")):
    res = api(members[0]).post(f"/api/v1/polls/{poll.id}/count")
    assert res.status_code == 200, res.json
    for user in members:
        r = sign_off(user, poll.id, res.json["digest"])
        assert r.status_code == 201, r.json
    assert r.json["status"] == "certified"
    return res.json


def _recount(runner, pid):
    return runner.invoke(args=["recount", str(pid)])


def _verify(runner):
    return runner.invoke(args=["verify-audit"])


def _both_pass(runner, pid):
    out = _recount(runner, pid)
    assert out.exit_code == 0, out.output
    out = _verify(runner)
    assert out.exit_code == 0, out.output


def _changed(output):
    """The inputs named on the "inputs changed" line."""
    line = next(x for x in output.splitlines() if "inputs changed since the count:" in x)
    return [p.strip() for p in line.split("inputs changed since the count:")[1].split(",")]


def _both_fail_naming(runner, pid, what):
    out = _recount(runner, pid)
    assert out.exit_code == 1, out.output
    assert _changed(out.output) == [what], out.output
    out = _verify(runner)
    assert out.exit_code == 1, out.output
    assert f"poll {pid}: inputs changed since the count: {what}" in out.output, out.output


def test_untouched_certified_poll_passes(world, api, runner, sign_off):
    poll = world.election()
    _certify(sign_off, api, poll)
    _both_pass(runner, poll.id)


def test_editing_the_attendance_snapshot_is_named(world, api, runner, sign_off):
    # 20 summoned, 16 ballots: candidate 0 has 13 votes (> 10, elected); with 40 summoned it
    # would not be. Raising the summoned figure changes who is elected without touching a ballot.
    poll = world.election()
    res = _certify(sign_off, api, poll)
    assert res["candidates"][0]["elected"] == "official"
    pid = poll.id
    row = db.session.get(Poll, pid)
    att = json.loads(row.attendance)
    att["voters_summoned"] = att["summoned"] = 40
    row.attendance = json.dumps(att)
    db.session.commit()
    _both_fail_naming(runner, pid, "attendance")


def test_editing_the_rules_is_named(world, api, runner, sign_off):
    poll = world.election()
    _certify(sign_off, api, poll)
    row = db.session.get(Poll, poll.id)
    row.rules = json.dumps({"preset": "vn-party", "strict": False})
    db.session.commit()
    _both_fail_naming(runner, poll.id, "rules")


def test_editing_a_candidates_name_is_named(world, api, runner, sign_off):
    poll = world.election()
    _certify(sign_off, api, poll)
    cand = db.session.get(Candidate, poll.candidates[0].id)
    cand.full_name = "Người Khác Hẳn"
    db.session.commit()
    _both_fail_naming(runner, poll.id, "candidates")


def test_editing_a_hand_count_is_named(world, api, runner, sign_off):
    cid = world.congress(voters=10)
    poll = world.poll(cid, kind="resolution", secrecy="open", status="open")
    world.close(poll)
    db.session.commit()
    item = poll.items[0].id
    r = api("counter1").post(
        f"/api/v1/polls/{poll.id}/hand-count",
        json={"items": {str(item): {"for": 8, "against": 1, "abstain": 1}}},
    )
    assert r.status_code == 201, r.json
    _certify(sign_off, api, poll)
    _both_pass(runner, poll.id)
    hc = db.session.query(HandCount).filter_by(poll_id=poll.id).one()
    hc.votes_for, hc.votes_against = 1, 8
    db.session.commit()
    _both_fail_naming(runner, poll.id, "hand counts")


def test_result_names_the_digest_parts(world, api):
    poll = world.election()
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    from congress_vote.counting.models import PollResult

    stored = json.loads(db.session.get(PollResult, poll.id).data)
    assert stored["digest"] == res["digest"]
    assert set(stored["digest_parts"]) >= {
        "poll",
        "rules",
        "candidates",
        "attendance",
        "ballots",
        "hand_count",
        "paper",
        "seal",
    }


def test_ballots_export_rebuilds_the_result_digest_offline(world, api, tmp_path):
    """The export carries the digest's other inputs: the standalone recount rebuilds the signed
    digest, and a file whose attendance or candidate names were edited no longer matches."""
    import subprocess
    import sys
    from pathlib import Path

    poll = world.election()
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    r = api("counter1").get(f"/api/v1/polls/{poll.id}/ballots.json")
    assert r.status_code == 200, r.json
    payload = json.loads(r.data)
    assert payload["digest"] == res["digest"]
    root = Path(__file__).resolve().parent.parent

    def run(data):
        path = tmp_path / "ballots.json"
        path.write_text(json.dumps(data, ensure_ascii=False))
        return subprocess.run(
            [sys.executable, "-m", "congress_vote.rules.recount", str(path)],
            capture_output=True,
            text=True,
            cwd=root,
            check=False,
        )

    good = run(payload)
    assert good.returncode == 0, good.stderr
    assert res["digest"] in good.stdout
    bad = json.loads(json.dumps(payload))
    bad["digest_inputs"]["candidates"][0]["full_name"] = "Người Khác Hẳn"
    out = run(bad)
    assert out.returncode == 1 and "digest" in out.stderr
    bad = json.loads(json.dumps(payload))
    bad["attendance"]["voters_present"] += 1
    out = run(bad)
    assert out.returncode == 1 and "digest" in out.stderr


def test_attendance_edit_with_a_rewritten_result_is_still_named(world, api, runner, sign_off):
    """The full attack: the attendance is edited AND the stored result's figures are rewritten
    to what the edited attendance gives, keeping the signed digest. Only a digest covering the
    attendance catches it."""
    from congress_vote.counting import count as cs
    from congress_vote.counting.models import PollResult

    poll = world.election()
    _certify(sign_off, api, poll)
    pid = poll.id
    row = db.session.get(Poll, pid)
    att = json.loads(row.attendance)
    att["voters_summoned"] = att["summoned"] = 40
    row.attendance = json.dumps(att)
    db.session.flush()
    stored = db.session.get(PollResult, pid)
    old = json.loads(stored.data)
    fresh = cs.named_result(row, cs.fresh_result(row))
    fresh["digest"] = stored.digest
    for key in ("digest_parts", "digest_format", "paper"):
        if key in old:
            fresh[key] = old[key]
    assert fresh["candidates"] != old["candidates"]  # who is elected changed
    stored.data = json.dumps(fresh, ensure_ascii=False, sort_keys=True)
    db.session.commit()
    _both_fail_naming(runner, pid, "attendance")


def test_a_result_counted_before_the_full_digest_still_recounts(world, api, runner):
    """A result stored by the former format (ballot-set digest, no digest_parts) is compared
    on that digest: upgrading does not make every old counted poll fail."""
    from congress_vote import rules
    from congress_vote.counting import inputs as cs
    from congress_vote.counting.models import PollResult

    poll = world.election()
    api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    row = db.session.get(PollResult, poll.id)
    data = json.loads(row.data)
    for key in ("digest_parts", "digest_format", "paper"):
        data.pop(key)
    spec, _att, ballots, settings, hand = cs.rules_inputs(poll)
    data["digest"] = row.digest = rules.ballot_digest(spec, settings, ballots, hand)
    row.data = json.dumps(data)
    db.session.commit()
    out = _recount(runner, poll.id)
    assert out.exit_code == 0, out.output
