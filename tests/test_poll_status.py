"""Poll status: one type with named sets, one module that changes it (polls/status.py).

The source checks read every module of congress_vote/ with ``ast``: no other module assigns a
poll status (``x.status = "counted"``, ``update(Poll).values(status=...)``) and none spells a set
of poll statuses by hand. The behaviour checks drive the transitions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import CheckConstraint

from congress_vote.errors import ServiceError
from congress_vote.extensions import db
from congress_vote.polls import status
from congress_vote.polls.models import Poll
from congress_vote.polls.status import PollStatus

ROOT = Path(__file__).resolve().parent.parent / "congress_vote"
OWNER = ROOT / "polls" / "status.py"
VALUES = {s.value for s in PollStatus}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts and path != OWNER:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _is_status_value(node) -> bool:
    if isinstance(node, ast.Constant) and node.value in VALUES:
        return True
    # PollStatus.X or PollStatus.X.value
    text = ast.unparse(node)
    return text.startswith("PollStatus.")


def test_only_polls_status_changes_a_poll_status():
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "status"
                        and _is_status_value(node.value)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values"
                and "Poll" in ast.unparse(node.func.value)
                and any(k.arg == "status" for k in node.keywords)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"poll status changed outside polls/status.py: {found}"


def test_no_hand_written_set_of_poll_statuses():
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.Set, ast.List)):
                names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len([n for n in names if n in VALUES]) >= 2 and set(names) <= VALUES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {names}")
    assert not found, f"status sets outside polls/status.py: {found}"


def test_the_column_accepts_exactly_the_enum_values():
    check = next(
        c
        for c in Poll.__table__.constraints
        if isinstance(c, CheckConstraint) and "status" in str(c.sqltext)
    )
    assert {v for v in VALUES if f"'{v}'" in str(check.sqltext)} == VALUES


def test_transitions_refuse_a_wrong_source_and_store_plain_strings(hall, app):
    cid = hall.congress()
    pid = hall.poll(cid)["id"]
    with app.app_context():
        poll = db.session.get(Poll, pid)
        for move in (status.close, status.counted, status.certify, status.back_to_closed):
            with pytest.raises(ServiceError) as err:
                move(poll)
            assert err.value.status == 409
        assert poll.status == "draft"
        assert status.publish(poll) is False and poll.status == "draft"
        status.open_(poll)
        db.session.commit()
        assert type(db.session.get(Poll, pid).status) is str
        db.session.expire_all()
        assert db.session.get(Poll, pid).status == "open"
