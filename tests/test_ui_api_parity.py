"""Everything the UI does, the API does (issue 18 part 5): every state-changing UI route (the app's
url_map: POST/PUT/PATCH/DELETE outside /api/) is declared below with the API route that does the
same and the service both reach. The test fails

- for a state-changing UI route missing from the table (a new page action without its API call);
- for a table entry naming an API route that does not exist, or a UI route that no longer does;
- when the UI view or the API view does not reach the named service (followed through the
  functions of congress_vote each view names, a few calls deep).
"""

from __future__ import annotations

import importlib
import inspect
import re

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

#: UI endpoint -> (API endpoint, "module:function" of the service both call)
PARITY: dict[str, tuple[str, str]] = {
    # sessions and accounts
    "auth.login": ("api.create_session", "congress_vote.auth.accounts:sign_in"),
    "auth.logout": ("api.end_session", "congress_vote.auth.sessions:end_current_session"),
    "auth.account": ("api.change_my_password", "congress_vote.auth.accounts:change_own_password"),
    "auth.print_key_card": ("api.api_key_card", "congress_vote.seal.keycard_pdf:issue_and_print"),
    "auth.users": ("api.create_user_route", "congress_vote.auth.services:create_user"),
    "auth.user_page": ("api.update_user", "congress_vote.auth.accounts:update_user"),
    "auth.activate": ("api.activate", "congress_vote.auth.accounts:set_active"),
    "auth.deactivate": ("api.deactivate", "congress_vote.auth.accounts:set_active"),
    "auth.reset_password": ("api.reset_password", "congress_vote.auth.accounts:reset_password"),
    "auth.revoke_tokens": ("api.revoke_tokens", "congress_vote.auth.accounts:revoke_tokens"),
    # the congress, its delegates, check-in, kiosks, documents
    "congress.new": ("api.congress_create", "congress_vote.congress.setup:create_congress"),
    "congress.edit": ("api.congress_update", "congress_vote.congress.setup:update_congress"),
    "congress.add_branch": ("api.branch_add", "congress_vote.congress.setup:add_branch"),
    "congress.import_delegates": (
        "api.delegates_import",
        "congress_vote.congress.importing:import_delegates_report",
    ),
    "congress.delegate_new": ("api.delegate_add", "congress_vote.congress.delegates:add_delegate"),
    "congress.delegate_edit": (
        "api.delegate_change",
        "congress_vote.congress.delegates:update_delegate",
    ),
    "congress.reissue": ("api.delegate_reissue", "congress_vote.congress.cards:reissue_card"),
    "congress.checkin_post": ("api.checkin", "congress_vote.congress.checkin:check_in"),
    "congress.checkin_undo": ("api.checkin_undo", "congress_vote.congress.checkin:undo_check_in"),
    "congress.attendance_set": (
        "api.delegate_attendance",
        "congress_vote.congress.checkin:set_attendance",
    ),
    "congress.kiosk_revoke": ("api.kiosk_revoke", "congress_vote.congress.kiosks:revoke_kiosk"),
    "ballots.kiosk_enrol": ("api.kiosk_enrol", "congress_vote.congress.kiosks:enrol_kiosk"),
    "documents.start": ("api.documents_start", "congress_vote.jobs.runner:start_job"),
    "documents.poll_start": (
        "api.poll_documents_start",
        "congress_vote.jobs.runner:start_poll_job",
    ),
    # polls, ballots, voting
    "polls.new": ("api.create_poll_route", "congress_vote.polls.services:create_poll"),
    "polls.edit": ("api.poll_change", "congress_vote.polls.services:update_poll"),
    "polls.open_": ("api.open_poll_route", "congress_vote.polls.services:open_poll"),
    "polls.close": ("api.close_poll_route", "congress_vote.polls.services:close_poll"),
    "reports.open_poll": ("api.open_poll_route", "congress_vote.polls.services:open_poll"),
    "reports.close_poll": ("api.close_poll_route", "congress_vote.polls.services:close_poll"),
    "reports.publish": ("api.publish_poll", "congress_vote.reports.services:publish_poll"),
    "reports.choose_projector": ("api.put_projector", "congress_vote.reports.projector:set_choice"),
    "reports.check_receipt": ("api.receipt_check", "congress_vote.reports.services:check_receipt"),
    "polls.issue": ("api.issue_ballots_route", "congress_vote.ballots.issuing:issue_batch"),
    "counting.paper_print": (
        "api.issue_ballots_route",
        "congress_vote.ballots.issuing:issue_batch",
    ),
    "polls.void_batch_view": ("api.void_batch_route", "congress_vote.ballots.voiding:void_batch"),
    "ballots.ballot": ("api.post_ballot", "congress_vote.ballots.services:cast_ballot"),
    "ballots.named": ("api.post_named_vote", "congress_vote.ballots.services:cast_named_vote"),
    # a kiosk's code entry looks the ballot up (a POST form, no change): GET /ballot/{token}
    "ballots.kiosk_code": ("api.get_ballot", "congress_vote.ballots.services:open_ballot"),
    # counting
    "counting.paper_returns": (
        "api.api_paper_returns",
        "congress_vote.counting.paper_returns:record_paper_return",
    ),
    "counting.paper_enter": (
        "api.api_paper",
        "congress_vote.counting.paper_entry:enter_paper_ballot",
    ),
    "counting.hand_count": (
        "api.api_hand_count",
        "congress_vote.counting.hand_count:enter_hand_count",
    ),
    "counting.count": ("api.api_count", "congress_vote.counting.count:count_poll"),
    "counting.sign": ("api.api_signoff", "congress_vote.counting.signoff:sign_result"),
    "counting.complaints": ("api.complaints", "congress_vote.counting.signoff:set_complaints"),
    "counting.next_round": ("api.api_round", "congress_vote.counting.rounds:create_round"),
}

_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_DOTTED = re.compile(r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\b")


def _lookup(scope: dict, name: str):
    """A name of the view's scope, or `module.function` through a module it imported."""
    base, _dot, attr = name.partition(".")
    obj = scope.get(base)
    if attr:
        return getattr(obj, attr, None) if inspect.ismodule(obj) else None
    return obj


def _reaches(fn, target, depth: int = 4, seen=None) -> bool:
    """Whether `fn` names `target`, directly or through the congress_vote functions it names."""
    seen = set() if seen is None else seen
    fn = inspect.unwrap(fn)
    if fn in seen or depth < 0:
        return False
    seen.add(fn)
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    scope = {**getattr(fn, "__globals__", {}), **_closure(fn)}
    names = set(_NAME.findall(source)) | set(_DOTTED.findall(source))
    for name in names:
        obj = _lookup(scope, name)
        if obj is None:
            continue
        if obj is target or inspect.unwrap(obj) is inspect.unwrap(target):
            return True
        mod = getattr(obj, "__module__", "") or ""
        if (
            inspect.isfunction(obj)
            and mod.startswith("congress_vote")
            and _reaches(obj, target, depth - 1, seen)
        ):
            return True
    return False


def _closure(fn) -> dict:
    cells = getattr(fn, "__closure__", None) or ()
    return {n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, cells, strict=False)}


def _service(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _ui_writes(app) -> set[str]:
    return {
        r.endpoint
        for r in app.url_map.iter_rules()
        if not r.rule.startswith("/api/") and r.methods & WRITES and r.endpoint != "static"
    }


def test_every_state_changing_ui_route_has_its_api_route(app):
    ui = _ui_writes(app)
    missing = sorted(ui - PARITY.keys())
    assert not missing, f"state-changing UI routes with no API route declared: {missing}"
    gone = sorted(PARITY.keys() - ui)
    assert not gone, f"the table names UI routes that do not exist (any more): {gone}"
    api = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    unknown = sorted({a for a, _s in PARITY.values()} - api)
    assert not unknown, f"the table names API routes that do not exist: {unknown}"


#: UI views that call their service by name through a verb (the chair's console:
#: ``getattr(polls_services, f"{verb}_poll")``): the view must pass that verb.
DISPATCHED = {"reports.open_poll": "open", "reports.close_poll": "close"}


def _dispatches(view, verb: str) -> bool:
    view = inspect.unwrap(view)
    source = inspect.getsource(view)
    helper = view.__globals__.get("_poll_action")
    return (
        f'_poll_action(cid, pid, "{verb}")' in source
        and helper is not None
        and 'getattr(polls_services, f"{verb}_poll")' in inspect.getsource(helper)
    )


def test_both_routes_reach_the_same_service(app):
    wrong = []
    for ui, (api, service) in sorted(PARITY.items()):
        target = _service(service)
        for endpoint in (ui, api):
            view = app.view_functions[endpoint]
            if endpoint in DISPATCHED:
                ok = _dispatches(view, DISPATCHED[endpoint])
            else:
                ok = _reaches(view, target)
            if not ok:
                wrong.append(f"{endpoint} does not reach {service}")
    assert not wrong, wrong


def test_the_check_fails_for_a_new_route_or_a_wrong_mapping(app):
    """The checks above are not vacuous: a UI route left out, an API route that does not exist
    and a service a view does not reach are each found."""
    ui = _ui_writes(app)
    assert "polls.void_batch_view" in ui and ui - (PARITY.keys() - {"polls.void_batch_view"})
    api = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert "api.no_such_route" not in api
    assert not _reaches(
        app.view_functions["polls.issue"], _service("congress_vote.ballots.voiding:void_batch")
    )
